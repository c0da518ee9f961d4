// Two ways in for staff: the browser session (an encrypted HttpOnly cookie naming a server-side
// session) and API bearer tokens for the hospital's other systems. The IdP login (SITHS) will
// start the same kind of session through startSession(…, 'oidc').
import Boom from '@hapi/boom';
import Cookie from '@hapi/cookie';
import Crumb from '@hapi/crumb';
import type { Request, Server } from '@hapi/hapi';
import { hkdfSync } from 'node:crypto';
import { apiPrefix } from '../http/api.ts';
import { languageCookie, languageOf, t } from '../http/i18n.ts';
import { sessionStaff, tokenStaff, whySessionEnded, type SessionEnd, type StartedSession } from './service.ts';
import { headerText } from '../http/headers.ts';
import { must } from '../common/must.ts';

export const sessionCookie = 'samverka_sid';

/**
 * What the session cookie holds (sealed: nobody can write one): the session's id, and when the
 * session ends however active the person is - kept so that the login page can say the session ran
 * its hours even once its row is gone (a later login clears the rows that ran out).
 */
interface SessionCookie {
  sid?: unknown;
  ends?: unknown;
}

/** The cookie of a session just begun (a login, by password or through the identity provider). */
export function keepSession(request: Request, session: StartedSession): void {
  request.cookieAuth.set({ sid: session.sid, ends: session.endsAt.getTime() });
}

/** Why the session a request's cookie named has ended, found as it was refused, for its login page. */
const endedSessions = new WeakMap<Request, SessionEnd>();

/**
 * The session cookie's sealing key, derived once from SESSION_SECRET. Given a string, @hapi/iron
 * derives a fresh key with PBKDF2 for every cookie it opens or seals (5 % of a calendar page's time);
 * given a 32-byte key it uses the key as it is. The cookie holds only the session's id.
 */
const cookieKey = (secret: string): Buffer =>
  Buffer.from(hkdfSync('sha256', secret, 'samverka', 'staff session cookie', 32));

/**
 * The header a page's own script sends with a request the person did not make: a live page's
 * refresh after an event, the meeting room's reports of the video's events.
 */
export const liveRequestHeader = 'x-live-refresh';

/**
 * Whether a request is the person at work, which keeps their session from ending as idle. A live
 * page's event stream is not (open as long as the page is, and checked again every minute with the
 * request that opened it), nor what a page's script asks by itself (`liveRequestHeader`): otherwise
 * a calendar left open on a shared ward computer would keep its session for the whole of its hours.
 */
function isActivity(request: Request): boolean {
  return !headerText(request, 'accept').includes('text/event-stream') && !headerText(request, liveRequestHeader);
}

/**
 * The login page for a request without a live session, with the way back to what it asked for: a
 * page asked for again; after a form sent, the page the form was on (its address is a POST's, which
 * a GET would not find). A request that still carried the cookie of a session that ended says why
 * (`session`: idle, past its hours, or ended elsewhere - a logout, a password changed), and the
 * login page tells the person; a browser that names no session of ours (never logged in, or
 * logged out here, which clears the cookie) is told nothing.
 */
function loginPath(request: Request): string {
  const referrer = headerText(request, 'referer');
  const from = URL.canParse(referrer) ? new URL(referrer) : undefined;
  const ours = [request.url.origin, request.server.app.config.publicUrl.origin];
  const next = ['get', 'head'].includes(request.method)
    ? request.url.pathname + request.url.search
    : from && ours.includes(from.origin)
      ? from.pathname + from.search
      : undefined;
  const query = [
    ...(next ? [`next=${encodeURIComponent(next)}`] : []),
    ...(endedSessions.has(request) ? [`session=${endedSessions.get(request)}`] : []),
  ];
  return query.length ? `/login?${query.join('&')}` : '/login';
}

/**
 * A bearer token refused, in the caller's language. Every token that opens nothing - made up,
 * revoked, or a disabled account's - gets the one answer (`unknown`), so that none tells whether an
 * account exists.
 */
const tokenRefused = (request: Request, why: 'malformed' | 'unknown') =>
  // The header names RFC 6750's error code; the sentence (not ASCII in Swedish) goes in the body only.
  Boom.unauthorized(t(languageOf(request), `api.token.${why}`), [
    `Bearer error="${why === 'malformed' ? 'invalid_request' : 'invalid_token'}"`,
  ]);

export async function registerAuth(server: Server): Promise<void> {
  const { config, db } = server.app;
  const secure = config.publicUrl.protocol === 'https:';

  await server.register(Cookie);
  server.auth.strategy('session', 'cookie', {
    cookie: {
      name: sessionCookie,
      password: cookieKey(config.sessionSecret),
      isSecure: secure,
      isHttpOnly: true,
      // Lax, not Strict: a clinician following a link from their mail must arrive logged in.
      isSameSite: 'Lax',
      path: '/',
      // No ttl: a browser-session cookie (no Max-Age or Expires), gone when the browser closes, so
      // that closing it on a shared ward computer ends the session there. The server ends the
      // session itself after config.sessionHours whatever the cookie (staff_sessions.expires_at).
      clearInvalid: true,
    },
    // Pages send people to the login page; the API answers 401 and lets the token strategy try.
    redirectTo: (request: Request) => (request.path.startsWith(`${apiPrefix}/`) ? '' : loginPath(request)),
    appendNext: false,
    validate: async (request: Request, session: SessionCookie | undefined) => {
      const sid = session?.sid;
      if (typeof sid !== 'string') return { isValid: false };
      let found;
      try {
        const idle = { minutes: config.sessionIdleMinutes, active: isActivity(request) };
        found = await sessionStaff(db, server.app.groupCommit, sid, idle);
        if (!found) {
          const ends = typeof session?.ends === 'number' ? new Date(session.ends) : undefined;
          endedSessions.set(request, await whySessionEnded(db, sid, ends, config.sessionIdleMinutes));
        }
      } catch (error) {
        // The cookie plugin would take any failure here for an invalid session: it would clear the
        // cookie and send the person to the login page, so a database away for a moment would log
        // everyone out. A session that could not be checked is not an invalid one: the failure is
        // carried on and thrown once authentication is over (below), where the error funnel makes
        // it a 503 (the database cannot be reached) or a 500, and the cookie stays.
        return { isValid: true, credentials: { uncheckedSession: error as Error } };
      }
      if (!found) return { isValid: false };
      const { staff, method, key } = found;
      return {
        isValid: true,
        credentials: {
          user: staff,
          scope: [staff.role],
          via: 'session',
          sessionId: sid,
          sessionMethod: method,
          sessionKey: key,
        },
      };
    },
  });

  server.ext('onCredentials', (request, h) => {
    const failure = request.auth.credentials?.uncheckedSession;
    if (failure) throw failure;
    return h.continue;
  });

  server.auth.scheme('bearer', () => ({
    async authenticate(request, h) {
      const header = headerText(request, 'authorization');
      // No token: "missing" to hapi (no message), which then answers as no way in was tried (http/errors.ts).
      if (!header) throw Boom.unauthorized(null, 'Bearer');
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) throw tokenRefused(request, 'malformed');
      const found = await tokenStaff(db, server.app.groupCommit, must(match[1], 'the bearer token'));
      if (!found) throw tokenRefused(request, 'unknown');
      return h.authenticated({ credentials: { user: found.staff, scope: [found.staff.role], via: 'token' } });
    },
  }));
  server.auth.strategy('token', 'bearer');

  // Secure by default: every route needs a staff session or token unless it says otherwise.
  server.auth.default({ strategies: ['session', 'token'] });

  server.state(languageCookie, {
    isSecure: secure,
    isHttpOnly: true,
    isSameSite: 'Lax',
    path: '/',
    ttl: 365 * 24 * 3600 * 1000,
    clearInvalid: true,
    strictHeader: false,
  });

  // CSRF: forms carry the crumb; API calls made with the session cookie send it as X-CSRF-Token.
  // Bearer-token calls are exempt: a browser never attaches that header by itself.
  await server.register({
    plugin: Crumb,
    options: {
      key: 'crumb',
      cookieOptions: { isSecure: secure, isHttpOnly: true, isSameSite: 'Strict', path: '/' },
      skip: (request?: Request) => request?.auth?.credentials?.via === 'token',
    },
  });
}
