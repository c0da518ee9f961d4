import Joi from 'joi';
import { roles } from './model.ts';

/** A local path to return to after login: never another origin (no open redirect). */
export const nextPath = Joi.string().max(500).pattern(/^\/(?![/\\])[^\s]*$/, 'path on this site');

export const loginPayload = Joi.object({
  email: Joi.string().trim().email({ tlds: false }).max(254).required(),
  password: Joi.string().min(1).max(1024).required(),
  next: nextPath.allow(''),
});

export const loginQuery = Joi.object({
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
