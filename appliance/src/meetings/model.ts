// Meetings and their participants as the rest of the appliance sees them (rows are mapped in store.ts).
import type { Language } from '../common/language.ts';
export const meetingStatuses = ['booked', 'open', 'in_progress', 'ended', 'cancelled'] as const;
export type MeetingStatus = (typeof meetingStatuses)[number];

/** The routine's four kinds: the patient (alone or with a proxy, "ombud") first, then the others. */
export const participantKinds = ['patient', 'patient_proxy', 'colleague', 'guest'] as const;
export type ParticipantKind = (typeof participantKinds)[number];

export const identificationMethods = ['siths', 'bankid', 'none', 'sms'] as const;
export type IdentificationMethod = (typeof identificationMethods)[number];

/** How far a participant has come; later issues (invites, entry, rooms) move them along. */
export const participantStatuses = [
  'invited',
  'delivered',
  'opened',
  'identified',
  'tech_tested',
  'waiting',
  'joined',
  'left',
] as const;
export type ParticipantStatus = (typeof participantStatuses)[number];

export interface Contact {
  name: string;
  /** ISO 3166 country the phone number was read for. */
  country: string;
  /** E.164, e.g. +46701234567. */
  mobile: string | null;
  email: string | null;
  /** "19121212-****": the full number is only ever stored encrypted. */
  personalNumberMasked: string | null;
}

export interface Participant extends Contact {
  id: string;
  meetingId: string;
  kind: ParticipantKind;
  identification: IdentificationMethod;
  /** The proxy ("ombud") who comes with the patient, for kind patient_proxy. */
  proxy: Contact | null;
  /** The staff account of a colleague. */
  staffId: string | null;
  /** The language of their messages and pages. */
  language: Language;
  status: ParticipantStatus;
  addedAt: Date;
}

export interface Meeting {
  id: string;
  unitId: string;
  title: string;
  startsAt: Date;
  durationMinutes: number;
  /** The clinician who booked it: always the inviting party, and the host. */
  bookedBy: string;
  /** Who is responsible for running the meeting. */
  ledBy: string;
  /** How documentation is done during and after the meeting. */
  documentationPlan: string;
  /** For parties who have never met digitally before. */
  testMeeting: boolean;
  status: MeetingStatus;
  cancelReason: string | null;
  /** Optimistic concurrency: every change raises it; a change based on an older one is refused. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
  participants: Participant[];
}

/** A meeting's own fields without its participants: what a participant's own pages need of it. */
export type BareMeeting = Omit<Meeting, 'participants'>;

/** What the calendar shows of a meeting (store.listCalendar): no contact data, no plan. */
export interface CalendarEntry extends Pick<Meeting, 'id' | 'title' | 'startsAt' | 'durationMinutes' | 'status'> {
  /** Each participant's name and kind, in the routine's order (the patient first). */
  people: Pick<Participant, 'name' | 'kind'>[];
}

/** A participant checked by rules.ts and ready to store; the personal numbers are still in clear. */
export interface NewContact {
  name: string;
  country: string;
  mobile: string | null;
  email: string | null;
  personalNumber: string | null;
}

export interface NewParticipant extends NewContact {
  kind: ParticipantKind;
  identification: IdentificationMethod;
  proxy: NewContact | null;
  staffId: string | null;
  language: Language;
}

export interface NewMeeting extends Pick<
  Meeting,
  'unitId' | 'title' | 'startsAt' | 'durationMinutes' | 'bookedBy' | 'ledBy' | 'documentationPlan' | 'testMeeting'
> {
  participants: NewParticipant[];
}

/** Whose contact data on a participant's row: the participant's own, or their proxy's. */
export type ContactPerson = 'main' | 'proxy';

/**
 * Where a person is invited, reminded and told of changes: one channel each, SMS when they gave a
 * mobile number (the routine invites patients without mobile BankID, and mobile guests, by SMS),
 * otherwise e-mail. An e-mail address beside a mobile number is where a message goes when the SMS
 * does not arrive (invites/fallback.ts). Undefined: neither.
 */
export const invitedAt = (
  reach: Pick<Contact, 'mobile' | 'email'>,
): { channel: 'sms' | 'email'; address: string } | undefined =>
  reach.mobile
    ? { channel: 'sms', address: reach.mobile }
    : reach.email
      ? { channel: 'email', address: reach.email }
      : undefined;

/** Whether a person with `after` is invited where they were with `before`: the same channel and address. */
export function invitedAtSame(
  before: Pick<Contact, 'mobile' | 'email'>,
  after: Pick<Contact, 'mobile' | 'email'>,
): boolean {
  const [was, is] = [invitedAt(before), invitedAt(after)];
  return was?.channel === is?.channel && was?.address === is?.address;
}

export const isPatient = (kind: ParticipantKind): boolean => kind === 'patient' || kind === 'patient_proxy';

/** When the meeting's booked time ends. */
export const meetingEnd = (m: Pick<Meeting, 'startsAt' | 'durationMinutes'>): Date =>
  new Date(m.startsAt.getTime() + m.durationMinutes * 60_000);

/**
 * Over: ended by staff or by the room's clock, or past its end and the grace period (when the
 * room's clock has not yet said so). Nobody joins an ended meeting any more, staff or guest.
 */
export const isOver = (
  m: Pick<Meeting, 'status' | 'startsAt' | 'durationMinutes'>,
  graceMinutes: number,
  now = new Date(),
): boolean => m.status === 'ended' || now.getTime() >= meetingEnd(m).getTime() + graceMinutes * 60_000;

/**
 * Held (or being held): someone came into its room, it ended, or its booked start has come. Not a
 * cancelled meeting, which never was. What the staff's evaluation is of.
 */
export const wasHeld = (m: Pick<Meeting, 'status' | 'startsAt'>, now = new Date()): boolean =>
  m.status === 'in_progress' || m.status === 'ended' || (m.status !== 'cancelled' && now >= m.startsAt);

/**
 * Closed to changes: cancelled, or over (ended by staff or the room's clock, or past its end and the
 * grace period though nobody marked it: isOver, as the page and the room say). What the clinic
 * expects of a meeting that has been held: it is a record now, not moved, cancelled or added to; to
 * meet again, a new meeting is booked. Undefined while it still takes changes, else why not.
 */
export const closedAs = (
  m: Pick<Meeting, 'status' | 'startsAt' | 'durationMinutes'>,
  graceMinutes: number,
  now = new Date(),
): 'cancelled' | 'ended' | undefined =>
  m.status === 'cancelled' ? 'cancelled' : isOver(m, graceMinutes, now) ? 'ended' : undefined;

/**
 * The status a person reads (the meeting page, the calendar, the API, the connection log): as
 * stored, except that a meeting over though nobody marked it ended (closedAs: past its end and the
 * grace period, when the page already says it has ended and takes no changes) reads "ended", not
 * "booked". Derived from the time, never written: the room's clock and staff still move the stored one.
 */
export const shownStatus = (
  m: Pick<Meeting, 'status' | 'startsAt' | 'durationMinutes'>,
  graceMinutes: number,
  now = new Date(),
): MeetingStatus => closedAs(m, graceMinutes, now) ?? m.status;

/** Whether anyone may still join the meeting: not cancelled, not over. */
export const isJoinable = (
  m: Pick<Meeting, 'status' | 'startsAt' | 'durationMinutes'>,
  graceMinutes: number,
  now = new Date(),
): boolean => m.status !== 'cancelled' && !isOver(m, graceMinutes, now);

/**
 * The next moment a page showing the meeting changes by the clock alone (its start: held, its record
 * and evaluation offered; its end and grace: over, no longer joinable), or none: a page left open
 * fetches itself again then, as it does when something happens to the meeting.
 */
export const nextTimedChange = (
  m: Pick<Meeting, 'status' | 'startsAt' | 'durationMinutes'>,
  graceMinutes: number,
  now = new Date(),
): Date | undefined =>
  m.status === 'cancelled' || m.status === 'ended'
    ? undefined
    : [m.startsAt, new Date(meetingEnd(m).getTime() + graceMinutes * 60_000)].find((at) => at > now);

/** The earliest of the meetings' next changes by the clock (nextTimedChange), as an ISO instant for a page. */
export function firstTimedChange(
  list: readonly Pick<Meeting, 'status' | 'startsAt' | 'durationMinutes'>[],
  graceMinutes: number,
  now = new Date(),
): string | undefined {
  const times = list.flatMap((m) => nextTimedChange(m, graceMinutes, now)?.getTime() ?? []);
  return times.length > 0 ? new Date(Math.min(...times)).toISOString() : undefined;
}

/**
 * The words (their i18n key) a participant's status is shown in: on a cancelled meeting, that it
 * was cancelled, whatever they had come to before (an invitation delivered, a link opened); how
 * they were told of it is the outbox's fact beside it.
 */
export const participantStatusKey = (meeting: Pick<Meeting, 'status'>, p: Pick<Participant, 'status'>): string =>
  meeting.status === 'cancelled' ? 'meetings.pstatus.cancelled' : `meetings.pstatus.${p.status}`;

/** Staff who took part: the host, the leader, colleagues invited with their account. */
export const tookPart = (staffId: string, m: Pick<Meeting, 'bookedBy' | 'ledBy' | 'participants'>): boolean =>
  m.bookedBy === staffId || m.ledBy === staffId || m.participants.some((p) => p.staffId === staffId);
