// joi schemas of the admin pages' queries and forms. Empty form fields mean "not given".
import Joi from 'joi';
import { day as lookupDay, lookupYears } from '../http/dates.ts';
import { objectOf, withoutNul } from '../http/route.ts';
import { roles, type Role } from '../staff/index.ts';

// Pasted from another page, an id may come with spaces around it.
const id = Joi.string().trim().guid().empty('');

/** A calendar day, YYYY-MM-DD, that exists. */
const day = lookupDay(lookupYears).empty('');

// No NUL character: PostgreSQL text cannot hold one (a search for it would fail, not find nothing).
const text = (max: number) => withoutNul(Joi.string().trim().max(max));

export interface AuditSearch {
  staff?: string;
  /** A staff member as typed: a part of the name, e-mail address or HSA-ID (staff finds them). */
  person?: string;
  meeting?: string;
  participant?: string;
  action?: string;
  from?: string;
  to?: string;
  before?: number;
  outside?: boolean;
}

export const auditQuery = objectOf<AuditSearch>({
  staff: id,
  person: text(200).empty(''),
  meeting: id,
  participant: id,
  action: Joi.string()
    .empty('')
    .max(64)
    .pattern(/^[a-z][a-z_.]*$/),
  from: day,
  to: day,
  before: Joi.number().integer().min(1).max(Number.MAX_SAFE_INTEGER),
  outside: Joi.boolean().truthy('on'),
});

export const extractQuery = objectOf<{ meeting?: string }>({ meeting: id });
export const extractCsvQuery = objectOf<{ meeting: string }>({ meeting: Joi.string().guid().required() });

export const extractPayload = objectOf<{
  crumb?: string;
  name: string;
  personalNumber: string;
  format: 'html' | 'csv';
}>({
  crumb: Joi.string(),
  name: Joi.string().trim().min(1).max(200).required(),
  personalNumber: Joi.string().trim().min(1).max(20).required(),
  format: Joi.string<'html' | 'csv'>().valid('html', 'csv').default('html'),
});

export const staffSearch = objectOf<{ q?: string; unit?: string; page?: number }>({
  q: text(200).empty(''),
  unit: id,
  page: Joi.number().integer().min(1).max(1_000_000).empty(''),
});

export interface StaffForm {
  crumb?: string;
  name: string;
  email: string;
  hsaId?: string;
  unit: string;
  role: Role;
}

export const staffPayload = objectOf<StaffForm>({
  crumb: Joi.string(),
  name: text(200).min(1).required(),
  email: Joi.string().trim().email({ tlds: false }).max(254).required(),
  hsaId: text(64)
    .allow('')
    .pattern(/^[A-Za-z0-9-]+$/),
  unit: Joi.string().guid().required(),
  role: Joi.string<Role>()
    .valid(...roles)
    .required(),
});

export const unitPayload = objectOf<{ crumb?: string; name: string; phone?: string }>({
  crumb: Joi.string(),
  name: text(200).min(1).required(),
  phone: text(32)
    .allow('')
    .pattern(/^[0-9 +()-]+$/),
});

export const tokenPayload = objectOf<{ crumb?: string; name: string }>({
  crumb: Joi.string(),
  name: text(100)
    .normalize()
    .min(1)
    // Letters of any language (a Swedish system's name has å, ä and ö, composed or not), digits,
    // spaces, _ . -
    .pattern(/^[\p{L}\p{M}\p{N}_ .-]+$/u)
    .required(),
});

export const staffParams = objectOf<{ id: string }>({ id: Joi.string().guid().required() });
export const unitParams = staffParams;
export const tokenParams = objectOf<{ id: string; tokenId: string }>({
  id: Joi.string().guid().required(),
  tokenId: Joi.string().guid().required(),
});
export const crumbOnly = objectOf<{ crumb?: string }>({ crumb: Joi.string() });
