import Joi from 'joi';
import { objectOf } from '../http/route.ts';
import { roles } from './model.ts';

// Where to go after a login or a language switch: a path on this site, never another origin.
// Read the way a browser reads a Location header (backslashes, tabs and all), and sent back
// percent-encoded, so that the header is always one Node accepts and every browser reads alike.
const here = 'http://samverka.invalid';
export const nextPath = Joi.string()
  .max(500)
  .custom((value: string, helpers) => {
    // Control characters have no business in a path: refused rather than silently dropped.
    if (!value.startsWith('/') || /[\u0000-\u001f\u007f]/.test(value))
      return helpers.error('string.pattern.name', { name: 'a path on this site' });
    const url = new URL(value, here);
    const path = `${url.pathname}${url.search}${url.hash}`;
    // "/..//host" resolves to "//host", which a browser would read as another site.
    if (url.origin !== here || path.startsWith('//'))
      return helpers.error('string.pattern.name', { name: 'a path on this site' });
    return path;
  });

export const loginPayload = objectOf<{ email: string; password: string; next?: string }>({
  email: Joi.string().trim().email({ tlds: false }).max(254).required(),
  password: Joi.string().min(1).max(1024).required(),
  next: nextPath.allow(''),
});

export const loginQuery = objectOf<{ next?: string; bye?: boolean }>({
  next: nextPath,
  bye: Joi.boolean(),
});

export const staffSchema = Joi.object({
  id: Joi.string().guid(),
  email: Joi.string().email({ tlds: false }),
  name: Joi.string(),
  hsaId: Joi.string().allow(null),
  role: Joi.string().valid(...roles),
  unit: Joi.object({ id: Joi.string().guid(), name: Joi.string(), phone: Joi.string().allow(null) }),
}).label('Staff');
