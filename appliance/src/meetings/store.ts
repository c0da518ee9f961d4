// SQL for meetings, participants and the record of changes. Rows are mapped to the model here, once.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { decrypt, encrypt } from '../crypto.ts';
import { iso, toBool, toDate } from '../db/values.ts';
import type { MeetingChange } from './events.ts';
import {
  participantStatuses,
  type Contact,
  type Meeting,
  type NewContact,
  type NewMeeting,
  type NewParticipant,
  type Participant,
  type ParticipantStatus,
} from './model.ts';
import { maskPersonalNumber } from './personal-number.ts';

type Row = Record<string, any>;
type Db = Knex | Knex.Transaction;

/** The AES-GCM context binds a sealed number to its column: it cannot be pasted into another. */
const sealContext = (column: string) => `participants.${column}`;

function toContact(r: Row, prefix = ''): Contact {
  return {
    name: r[`${prefix}name`],
    country: r[`${prefix}country`],
    mobile: r[`${prefix}mobile`] ?? null,
    email: r[`${prefix}email`] ?? null,
    personalNumberMasked: r[`${prefix}personal_number_masked`] ?? null,
  };
}

const toParticipant = (r: Row): Participant => ({
  id: r.id,
  meetingId: r.meeting_id,
  kind: r.kind,
  identification: r.identification,
  ...toContact(r),
  proxy: r.proxy_name ? toContact(r, 'proxy_') : null,
  staffId: r.staff_id ?? null,
  language: r.language === 'en' ? 'en' : 'sv',
  status: r.status,
  addedAt: toDate(r.added_at),
});

const toMeeting = (r: Row, participants: Participant[]): Meeting => ({
  id: r.id,
  unitId: r.unit_id,
  title: r.title,
  startsAt: toDate(r.starts_at),
  durationMinutes: Number(r.duration_minutes),
  bookedBy: r.booked_by,
  ledBy: r.led_by,
  documentationPlan: r.documentation_plan,
  testMeeting: toBool(r.test_meeting),
  status: r.status,
  cancelReason: r.cancel_reason ?? null,
  version: Number(r.version),
  createdAt: toDate(r.created_at),
  updatedAt: toDate(r.updated_at),
  participants,
});

function contactColumns(contact: NewContact, dataKey: Buffer, prefix = ''): Row {
  const column = `${prefix}personal_number_sealed`;
  return {
    [`${prefix}name`]: contact.name,
    [`${prefix}country`]: contact.country,
    [`${prefix}mobile`]: contact.mobile,
    [`${prefix}email`]: contact.email,
    [column]: contact.personalNumber ? encrypt(dataKey, contact.personalNumber, sealContext(column)) : null,
    [`${prefix}personal_number_masked`]: contact.personalNumber ? maskPersonalNumber(contact.personalNumber) : null,
  };
}

/** Inserts participants from `position` on; returns their new ids in order. */
export async function insertParticipants(
  trx: Db,
  meetingId: string,
  participants: NewParticipant[],
  position: number,
  dataKey: Buffer,
  at = new Date(),
): Promise<string[]> {
  const rows = participants.map((p, i) => ({
    id: randomUUID(),
    meeting_id: meetingId,
    position: position + i,
    kind: p.kind,
    identification: p.identification,
    ...contactColumns(p, dataKey),
    ...(p.proxy ? contactColumns(p.proxy, dataKey, 'proxy_') : {}),
    staff_id: p.staffId,
    language: p.language,
    status: 'invited',
    added_at: iso(at),
  }));
  if (rows.length > 0) await trx('participants').insert(rows);
  return rows.map((r) => r.id);
}

export async function insertMeeting(
  trx: Db,
  meeting: Omit<NewMeeting, 'participants'>,
  at = new Date(),
): Promise<string> {
  const id = randomUUID();
  await trx('meetings').insert({
    id,
    unit_id: meeting.unitId,
    title: meeting.title,
    starts_at: iso(meeting.startsAt),
    duration_minutes: meeting.durationMinutes,
    booked_by: meeting.bookedBy,
    led_by: meeting.ledBy,
    documentation_plan: meeting.documentationPlan,
    test_meeting: meeting.testMeeting,
    status: 'booked',
    version: 1,
    created_at: iso(at),
    updated_at: iso(at),
  });
  return id;
}

/** Everything but the sealed numbers: they leave the store only through personalNumberOf. */
const participantColumns = [
  'id',
  'meeting_id',
  'kind',
  'identification',
  'name',
  'country',
  'mobile',
  'email',
  'personal_number_masked',
  'proxy_name',
  'proxy_country',
  'proxy_mobile',
  'proxy_email',
  'proxy_personal_number_masked',
  'staff_id',
  'language',
  'status',
  'added_at',
];

async function participantsOf(db: Db, meetingIds: string[]): Promise<Map<string, Participant[]>> {
  const byMeeting = new Map<string, Participant[]>(meetingIds.map((id) => [id, []]));
  // Chunked: SQLite binds at most 32,766 parameters, and a month of a busy unit stays far below.
  for (let i = 0; i < meetingIds.length; i += 500) {
    const rows = await db('participants')
      .select(participantColumns)
      .whereIn('meeting_id', meetingIds.slice(i, i + 500))
      .whereNull('removed_at')
      .orderBy(['meeting_id', 'position']);
    for (const row of rows) byMeeting.get(row.meeting_id)!.push(toParticipant(row));
  }
  return byMeeting;
}

export async function findMeeting(db: Db, id: string): Promise<Meeting | undefined> {
  const row = await db('meetings').where({ id }).first();
  if (!row) return undefined;
  return toMeeting(row, (await participantsOf(db, [id])).get(id)!);
}

export interface Period {
  from: Date;
  to: Date;
  unitId?: string;
  /** Meetings this staff member booked or leads. */
  staffId?: string;
}

export async function listMeetings(db: Db, period: Period): Promise<Meeting[]> {
  const q = db('meetings')
    .where('starts_at', '>=', iso(period.from))
    .andWhere('starts_at', '<', iso(period.to))
    .orderBy(['starts_at', 'id']);
  if (period.unitId) q.andWhere('unit_id', period.unitId);
  if (period.staffId) q.andWhere((w) => w.where('booked_by', period.staffId!).orWhere('led_by', period.staffId!));
  const rows = await q;
  const participants = await participantsOf(
    db,
    rows.map((r: Row) => r.id),
  );
  return rows.map((r: Row) => toMeeting(r, participants.get(r.id)!));
}

export type MeetingColumns = Partial<{
  title: string;
  startsAt: Date;
  durationMinutes: number;
  ledBy: string;
  documentationPlan: string;
  status: string;
  cancelReason: string;
}>;

/**
 * Writes the changes and raises the version, only if the meeting is still at `version`.
 * Returns false when another change got there first.
 */
export async function updateMeeting(
  trx: Db,
  id: string,
  version: number,
  changes: MeetingColumns,
  at = new Date(),
): Promise<boolean> {
  const row: Row = { version: version + 1, updated_at: iso(at) };
  if (changes.title !== undefined) row.title = changes.title;
  if (changes.startsAt !== undefined) row.starts_at = iso(changes.startsAt);
  if (changes.durationMinutes !== undefined) row.duration_minutes = changes.durationMinutes;
  if (changes.ledBy !== undefined) row.led_by = changes.ledBy;
  if (changes.documentationPlan !== undefined) row.documentation_plan = changes.documentationPlan;
  if (changes.status !== undefined) row.status = changes.status;
  if (changes.cancelReason !== undefined) row.cancel_reason = changes.cancelReason;
  const n = await trx('meetings').where({ id, version }).update(row);
  return n === 1;
}

export async function removeParticipant(trx: Db, participantId: string, at = new Date()): Promise<void> {
  await trx('participants')
    .where({ id: participantId })
    .update({ removed_at: iso(at) });
}

export async function nextPosition(trx: Db, meetingId: string): Promise<number> {
  const row = await trx('participants').where({ meeting_id: meetingId }).max({ n: 'position' }).first();
  return row?.n == null ? 0 : Number(row.n) + 1;
}

/**
 * Moves a participant's status. Until they reach the waiting room the steps only go forward (a
 * late delivery receipt must not undo "identified"); from there on they come and go (waiting,
 * joined, left, joined again).
 */
export async function setParticipantStatus(db: Db, participantId: string, status: ParticipantStatus): Promise<boolean> {
  const q = db('participants').where({ id: participantId }).whereNull('removed_at');
  const step = participantStatuses.indexOf(status);
  if (step < participantStatuses.indexOf('waiting')) q.whereIn('status', participantStatuses.slice(0, step));
  return (await q.update({ status })) === 1;
}

export async function insertChange(trx: Db, change: MeetingChange, at = new Date()): Promise<void> {
  const payload = change.payload as { meetingId: string; byStaffId: string; participantId?: string };
  await trx('meeting_events').insert({
    meeting_id: payload.meetingId,
    participant_id: payload.participantId ?? null,
    type: change.type,
    staff_id: payload.byStaffId,
    at: iso(at),
    payload: JSON.stringify(change.payload),
  });
}

export interface RecordedChange {
  id: number;
  type: string;
  meetingId: string;
  participantId: string | null;
  staffId: string | null;
  at: Date;
  payload: Record<string, unknown>;
}

export async function listChanges(db: Db, meetingId: string): Promise<RecordedChange[]> {
  const rows = await db('meeting_events').where({ meeting_id: meetingId }).orderBy('id');
  return rows.map((r: Row) => ({
    id: Number(r.id),
    type: r.type,
    meetingId: r.meeting_id,
    participantId: r.participant_id ?? null,
    staffId: r.staff_id ?? null,
    at: toDate(r.at),
    payload: JSON.parse(r.payload),
  }));
}

/** The clear personal identity number, for identifying the person with BankID (never for display). */
export async function personalNumberOf(
  db: Db,
  participantId: string,
  dataKey: Buffer,
  who: 'patient' | 'proxy' = 'patient',
): Promise<string | null> {
  const column = who === 'proxy' ? 'proxy_personal_number_sealed' : 'personal_number_sealed';
  const row = await db('participants').where({ id: participantId }).first(column);
  const sealed = row?.[column];
  return sealed ? decrypt(dataKey, sealed, sealContext(column)) : null;
}

/** One participant, also after removal (the removed person is still told the meeting is off). */
export async function findParticipant(db: Db, participantId: string): Promise<Participant | undefined> {
  const row = await db('participants').where({ id: participantId }).first();
  return row ? toParticipant(row) : undefined;
}

/**
 * The room moves a meeting along: booked → open (the room exists) → in progress (someone joined) →
 * ended. Only forward, and never out of cancelled; the version is not raised (these are not edits
 * a clinician could conflict with).
 */
export type RoomStatus = 'open' | 'in_progress' | 'ended';

export async function advanceMeetingStatus(
  db: Db,
  meetingId: string,
  status: RoomStatus,
  at = new Date(),
): Promise<boolean> {
  const earlier: Record<typeof status, string[]> = {
    open: ['booked'],
    in_progress: ['booked', 'open'],
    ended: ['booked', 'open', 'in_progress'],
  };
  const n = await db('meetings')
    .where({ id: meetingId })
    .whereIn('status', earlier[status])
    .update({ status, updated_at: iso(at) });
  return n === 1;
}

/**
 * Retention: erases the mobile numbers, e-mail addresses and personal identity numbers of every
 * participant (and proxy) of meetings that ended before `before`. Names stay: the meeting record
 * keeps who took part. Returns how many participants had contact data erased.
 */
/** The meetings that ended (start + duration) before `before`. */
export async function meetingsEndedBefore(db: Db, before: Date): Promise<string[]> {
  // The end is start + duration; the longest meeting is a day, so candidates start before `before`.
  const candidates = await db('meetings')
    .where('starts_at', '<', iso(before))
    .select('id', 'starts_at', 'duration_minutes');
  return candidates
    .filter((m: Row) => toDate(m.starts_at).getTime() + Number(m.duration_minutes) * 60_000 < before.getTime())
    .map((m: Row) => m.id as string);
}

const contactColumnNames = [
  'mobile',
  'email',
  'personal_number_sealed',
  'personal_number_masked',
  'proxy_mobile',
  'proxy_email',
  'proxy_personal_number_sealed',
  'proxy_personal_number_masked',
];

export async function eraseContactsOfMeetings(db: Db, meetingIds: string[]): Promise<number> {
  const contact = contactColumnNames;
  let erased = 0;
  for (let i = 0; i < meetingIds.length; i += 500) {
    erased += await db('participants')
      .whereIn('meeting_id', meetingIds.slice(i, i + 500))
      .andWhere((w) => {
        for (const column of contact) w.orWhereNotNull(column);
      })
      .update(Object.fromEntries(contact.map((column) => [column, null])));
  }
  return erased;
}

/**
 * A privacy request: erases one participant's (and their proxy's) mobile, e-mail and personal
 * identity number. The name stays. Returns false when there is no such participant.
 */
export async function eraseParticipantContacts(db: Db, participantId: string): Promise<boolean> {
  const n = await db('participants')
    .where({ id: participantId })
    .update(Object.fromEntries(contactColumnNames.map((column) => [column, null])));
  return n > 0;
}

/** The room moved the meeting on: recorded beside the staff's changes, with who did it (if anyone). */
export async function insertStatusChange(
  trx: Db,
  change: { meetingId: string; status: RoomStatus; byStaffId: string | null },
  at = new Date(),
): Promise<void> {
  await trx('meeting_events').insert({
    meeting_id: change.meetingId,
    participant_id: null,
    type: 'meeting.status',
    staff_id: change.byStaffId,
    at: iso(at),
    payload: JSON.stringify(change),
  });
}
