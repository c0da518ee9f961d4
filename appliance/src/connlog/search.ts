// Finding meetings for support: by period and care unit, a meeting's id, a participant's name or
// phone number. Support sees phone numbers masked but for the last digits; admins see them whole.
import type { Db } from '../db/knex.ts';
import type { FoundMeeting } from '../meetings/index.ts';
import { searchMeetingPage } from '../meetings/index.ts';
import type { Role } from '../staff/index.ts';

export interface SearchCriteria {
  from: Date;
  to: Date;
  unitId?: string;
  meetingId?: string;
  name?: string;
  phone?: string;
}

/** The longest period one search may cover, as for the calendar: a quarter. */
export const maxSearchDays = 92;

/** "+46701234567" → "*********67": enough to confirm a number read out on the phone, not to call it. */
export function maskPhone(phone: string | null, visibleDigits = 2): string | null {
  if (!phone) return null;
  return '*'.repeat(Math.max(0, phone.length - visibleDigits)) + phone.slice(-visibleDigits);
}

export const phoneFor = (role: Role, phone: string | null): string | null =>
  role === 'admin' ? phone : maskPhone(phone);

const digits = (s: string) => s.replace(/\D/g, '');

/**
 * The digits of a typed number that a stored E.164 number must end with ("070-123 45 67" → 701234567
 * ↔ "+46701234567"). "+46 (0)70-…" writes the 0 dialled at home beside the country code: not a
 * digit of the number.
 */
export function phoneDigits(typed: string): string {
  return digits(typed.replace(/\(\s*0\s*\)/g, '')).replace(/^0+/, '');
}

/** Fewer digits than these would match nearly every number: the form asks for more. */
export const minPhoneDigits = 4;

/**
 * One page of the meetings a search finds, and how many it finds: by id the one meeting, otherwise
 * the period's (and unit's); those with someone (removed ones too) of that name or number. The
 * meetings domain reads them a page at a time.
 */
export async function searchMeetings(
  db: Db,
  c: SearchCriteria,
  page: { offset: number; limit: number },
): Promise<{ total: number; meetings: FoundMeeting[] }> {
  const phoneEnd = c.phone ? phoneDigits(c.phone) : undefined;
  // Too few digits would match nearly every number: the form refuses them, and nothing matches them.
  if (phoneEnd !== undefined && phoneEnd.length < minPhoneDigits) return { total: 0, meetings: [] };
  return searchMeetingPage(db, { ...c, phoneEnd }, page);
}
