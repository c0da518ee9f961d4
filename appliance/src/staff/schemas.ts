import Joi from 'joi';
import { objectOf } from '../http/route.ts';
import { roles } from './model.ts';
import type { SessionEnd } from './service.ts';

/**
 * The longest address kept as where to go after a login or a language switch. The longest the
 * appliance itself makes is a connection-log timeline's, which carries the support's sealed search
 * to return to: the search's name alone may seal to nearly 2,000 characters, and connlog takes a
 * sealed search of up to 4,000 (its schema), so a timeline address a session may expire on is up to
 * about 4,150 characters. Twice that leaves room for a path's letters percent-encoded, and the
 * login address (`/login?next=` and it encoded) stays well inside Node's 16 KiB request head.
 */
export const longestPath = 8000;

// Where to go after a login or a language switch: a path on this site, never another origin.
// Read the way a browser reads a Location header (backslashes, tabs and all), and sent back
// percent-encoded, so that the header is always one Node accepts and every browser reads alike.
const here = 'http://samverka.invalid';
const pathHere = (value: string, helpers: Joi.CustomHelpers) => {
  // Control characters have no business in a path: refused rather than silently dropped.
  if (!value.startsWith('/') || /[\u0000-\u001f\u007f]/.test(value))
    return helpers.error('string.pattern.name', { name: 'a path on this site' });
  const url = new URL(value, here);
  const path = `${url.pathname}${url.search}${url.hash}`;
  // "/..//host" resolves to "//host", which a browser would read as another site.
  if (url.origin !== here || path.startsWith('//'))
    return helpers.error('string.pattern.name', { name: 'a path on this site' });
  return path;
};
export const nextPath = Joi.string().max(longestPath).custom(pathHere);

/**
 * Where a login leads on: as `nextPath`, but an address too long to keep is let go (empty: the
 * person lands on their start page) rather than refused, so that the login form still shows.
 */
export const loginNext = Joi.string()
  .allow('')
  .custom((value: string, helpers) => (value.length > longestPath ? '' : pathHere(value, helpers)));

export const loginPayload = objectOf<{ email: string; password: string; next?: string }>({
  email: Joi.string().trim().email({ tlds: false }).max(254).required(),
  password: Joi.string().min(1).max(1024).required(),
  next: loginNext,
});

export const loginQuery = objectOf<{ next?: string; bye?: boolean; session?: SessionEnd; expired?: boolean }>({
  next: loginNext,
  bye: Joi.boolean(),
  /** The session the browser still named had ended, and why (auth.ts, loginPath): the page says so. */
  session: Joi.string<SessionEnd>().valid('idle', 'lifetime', 'ended'),
  /**
   * What the address said before the reason was told (`session`), kept in a bookmark: taken, and
   * said nothing of, as it tells nothing about the session now.
   */
  expired: Joi.boolean(),
});

/** The password form's address: where the person goes on to once it is changed, kept as a login's. */
export const passwordQuery = objectOf<{ next?: string }>({ next: loginNext });

/**
 * The password form on the way to `next` (a login's, or the page a one-time password turned away):
 * kept only if it is one a login keeps. The start page ("/") is where the form leads on anyway.
 */
export function passwordPath(next?: string): string {
  const kept = next && next !== '/' ? loginNext.validate(next) : undefined;
  return kept && !kept.error && kept.value ? `/password?next=${encodeURIComponent(kept.value)}` : '/password';
}

export const staffSchema = Joi.object({
  id: Joi.string().guid(),
  email: Joi.string().email({ tlds: false }),
  name: Joi.string(),
  hsaId: Joi.string().allow(null),
  role: Joi.string().valid(...roles),
  unit: Joi.object({ id: Joi.string().guid(), name: Joi.string(), phone: Joi.string().allow(null) }),
}).label('Staff');
