// People's names, phone numbers and e-mail addresses as the booking receives them: normalised once
// so that a guest later typing their name "exactly as invited" is compared with a clean value.
import Joi from 'joi';
import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

export type { CountryCode };

export const defaultCountry = 'SE';

export const isCountry = (country: string): country is CountryCode => isSupportedCountry(country);

export type ParsedMobile = { ok: true; e164: string } | { ok: false; problem: 'invalid' | 'not_mobile' };

/**
 * Reads a mobile number as typed for the chosen country ("070-123 45 67" in Sweden, or any
 * "+47…" form) and returns it in E.164. Invitations and SMS codes go to it, so a fixed line
 * is refused.
 */
export function parseMobile(input: string, country: CountryCode): ParsedMobile {
  const phone = parsePhoneNumberFromString(input.trim(), country);
  if (!phone || !phone.isValid()) return { ok: false, problem: 'invalid' };
  const type = phone.getType();
  if (type !== 'MOBILE' && type !== 'FIXED_LINE_OR_MOBILE') return { ok: false, problem: 'not_mobile' };
  return { ok: true, e164: phone.number };
}

const emailSchema = Joi.string()
  .email({ tlds: { allow: false } })
  .max(254);

/** A lower-cased address, or undefined when it is not one. */
export function parseEmail(input: string): string | undefined {
  const email = input.trim().toLowerCase();
  return emailSchema.validate(email).error ? undefined : email;
}

/**
 * A stored E.164 number as a person reads it aloud and dials it: the national form for Swedish
 * numbers ("070-123 45 67"), the international form for others ("+47 91 23 45 67").
 */
export function displayPhone(e164: string): string {
  const phone = parsePhoneNumberFromString(e164);
  if (!phone) return e164;
  return phone.country === defaultCountry ? phone.formatNational() : phone.formatInternational();
}
