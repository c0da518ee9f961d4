// Finding meetings for support: by period and care unit, a meeting's id, a participant's name or
// phone number. Support sees phone numbers masked but for the last digits; admins see them whole.
import type { Db } from '../db/knex.ts';
import type { Meeting, Participant } from '../meetings/index.ts';
import { nameContains } from '../common/names.ts';
import { everyParticipantOf, findMeeting, listMeetings, removedParticipantsIn } from '../meetings/index.ts';
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

/** A typed number matches a participant's (or their proxy's) when their number ends with its digits. */
function phoneMatches(typed: string, p: Participant): boolean {
  const wanted = phoneDigits(typed);
  if (wanted.length < minPhoneDigits) return false;
  return [p.mobile, p.proxy?.mobile].some((m) => m !== null && m !== undefined && digits(m).endsWith(wanted));
}

function nameMatches(typed: string, p: Participant): boolean {
  return [p.name, p.proxy?.name].some((n) => n && nameContains(n, typed));
}

/** A meeting found, with those removed from it (shown as removed: why their link stopped working). */
export type FoundMeeting = Meeting & { removed: Participant[] };

export async function searchMeetings(db: Db, c: SearchCriteria): Promise<FoundMeeting[]> {
  let meetings: Meeting[];
  let removed: Participant[];
  if (c.meetingId) {
    const meeting = await findMeeting(db, c.meetingId);
    meetings = meeting ? [meeting] : [];
    removed = meeting ? (await everyParticipantOf(db, meeting.id)).filter((p) => p.removedAt !== null) : [];
  } else {
    meetings = await listMeetings(db, { from: c.from, to: c.to, unitId: c.unitId });
    removed = await removedParticipantsIn(db, { from: c.from, to: c.to, unitId: c.unitId });
  }
  const removedFrom = new Map<string, Participant[]>();
  for (const p of removed) removedFrom.set(p.meetingId, [...(removedFrom.get(p.meetingId) ?? []), p]);
  return meetings
    .map((m) => ({ ...m, removed: removedFrom.get(m.id) ?? [] }))
    .filter((m) => {
      const everyone = [...m.participants, ...m.removed];
      return (
        (!c.unitId || m.unitId === c.unitId) &&
        (!c.name || everyone.some((p) => nameMatches(c.name!, p))) &&
        (!c.phone || everyone.some((p) => phoneMatches(c.phone!, p)))
      );
    });
}
