// SQL for meetings, participants and the record of changes. Rows are mapped to the model here, once.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { decrypt, encrypt, keyedHash } from '../crypto.ts';
import { chunks, iso, toBool, toDate } from '../db/values.ts';
import { nameContains, nameKey } from '../common/names.ts';
import type { MeetingChange } from './events.ts';
import {
  isPatient,
  participantStatuses,
  type CalendarEntry,
  type ContactPerson,
  type BareMeeting,
  type Meeting,
  type NewContact,
  type NewMeeting,
  type NewParticipant,
  type Participant,
  type ParticipantKind,
  type MeetingStatus,
  type ParticipantStatus,
} from './model.ts';
import { maskPersonalNumber } from './personal-number.ts';
import type { MeetingEventRow, MeetingRow, ParticipantRow } from './rows.ts';

type Db = Knex | Knex.Transaction;
type SealedColumn = 'personal_number_sealed' | 'proxy_personal_number_sealed';

/** The AES-GCM context binds a sealed number to its column: it cannot be pasted into another. */
const sealContext = (column: SealedColumn) => `participants.${column}`;

/**
 * A patient's personal identity number as the log extract finds it once the number itself is
 * erased (migration 0020): a keyed hash, kept as long as the audit log keeps the accesses.
 */
export const patientRef = (dataKey: Buffer, personalNumber: string): string =>
  keyedHash(dataKey, 'participants.patient_ref', personalNumber);

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
] as const satisfies readonly (keyof ParticipantRow)[];
type ListedParticipant = Pick<ParticipantRow, (typeof participantColumns)[number]>;

const toParticipant = (r: ListedParticipant): Participant => ({
  id: r.id,
  meetingId: r.meeting_id,
  kind: r.kind,
  identification: r.identification,
  name: r.name,
  country: r.country,
  mobile: r.mobile ?? null,
  email: r.email ?? null,
  personalNumberMasked: r.personal_number_masked ?? null,
  proxy: r.proxy_name
    ? {
        name: r.proxy_name,
        // Written with the proxy's name, always (contactColumns).
        country: r.proxy_country ?? r.country,
        mobile: r.proxy_mobile ?? null,
        email: r.proxy_email ?? null,
        personalNumberMasked: r.proxy_personal_number_masked ?? null,
      }
    : null,
  staffId: r.staff_id ?? null,
  language: r.language === 'en' ? 'en' : 'sv',
  status: r.status,
  addedAt: toDate(r.added_at),
});

const toMeeting = (r: MeetingRow, participants: Participant[]): Meeting => ({ ...toBareMeeting(r), participants });

const toBareMeeting = (r: MeetingRow): BareMeeting => ({
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
});

type ContactColumns = Pick<
  ParticipantRow,
  'name' | 'country' | 'mobile' | 'email' | 'personal_number_sealed' | 'personal_number_masked'
>;

/** A contact's columns, its personal number sealed for `column` (the patient's or the proxy's). */
function contactColumns(contact: NewContact, dataKey: Buffer, column: SealedColumn): ContactColumns {
  return {
    name: contact.name,
    country: contact.country,
    mobile: contact.mobile,
    email: contact.email,
    personal_number_sealed: contact.personalNumber
      ? encrypt(dataKey, contact.personalNumber, sealContext(column))
      : null,
    personal_number_masked: contact.personalNumber ? maskPersonalNumber(contact.personalNumber) : null,
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
  const rows = participants.map((p, i): ParticipantRow => {
    const proxy = p.proxy ? contactColumns(p.proxy, dataKey, 'proxy_personal_number_sealed') : undefined;
    return {
      id: randomUUID(),
      meeting_id: meetingId,
      position: position + i,
      kind: p.kind,
      identification: p.identification,
      ...contactColumns(p, dataKey, 'personal_number_sealed'),
      patient_ref: isPatient(p.kind) && p.personalNumber ? patientRef(dataKey, p.personalNumber) : null,
      proxy_name: proxy?.name ?? null,
      proxy_country: proxy?.country ?? null,
      proxy_mobile: proxy?.mobile ?? null,
      proxy_email: proxy?.email ?? null,
      proxy_personal_number_sealed: proxy?.personal_number_sealed ?? null,
      proxy_personal_number_masked: proxy?.personal_number_masked ?? null,
      staff_id: p.staffId,
      language: p.language,
      status: 'invited',
      added_at: iso(at),
      removed_at: null,
    };
  });
  if (rows.length > 0) await trx<ParticipantRow>('participants').insert(rows);
  return rows.map((r) => r.id);
}

export async function insertMeeting(
  trx: Db,
  meeting: Omit<NewMeeting, 'participants'>,
  at = new Date(),
): Promise<string> {
  const id = randomUUID();
  await trx<MeetingRow>('meetings').insert({
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

/** A meeting's participants, in the routine's order (removed ones are left out). */
async function participantsOf(db: Db, meetingId: string): Promise<Participant[]> {
  const rows = await db<ParticipantRow>('participants')
    .select(...participantColumns)
    .where({ meeting_id: meetingId })
    .whereNull('removed_at')
    .orderBy('position');
  return rows.map(toParticipant);
}

/**
 * Every participant the meeting holds data about, those removed from it too (with when): a privacy
 * request may come from someone invited and then taken off the list.
 */
export async function everyParticipantOf(
  db: Db,
  meetingId: string,
): Promise<(Participant & { removedAt: Date | null })[]> {
  const rows: (ListedParticipant & Pick<ParticipantRow, 'removed_at'>)[] = await db<ParticipantRow>('participants')
    .select(...participantColumns, 'removed_at')
    .where({ meeting_id: meetingId })
    .orderBy('position');
  return rows.map((r) => ({ ...toParticipant(r), removedAt: toDate(r.removed_at, true) }));
}

export async function findMeeting(db: Db, id: string): Promise<Meeting | undefined> {
  const row = await db<MeetingRow>('meetings').where({ id }).first();
  if (!row) return undefined;
  return toMeeting(row, await participantsOf(db, id));
}

// The participant's columns and the meeting's: both tables have `id` (the participant's
// `meeting_id` is the meeting's) and `status` (the meeting's is read as `meeting_status`).
const attendanceColumns = [
  ...participantColumns.map((c) => `p.${c}`),
  ...(
    [
      'unit_id',
      'title',
      'starts_at',
      'duration_minutes',
      'booked_by',
      'led_by',
      'documentation_plan',
      'test_meeting',
      'cancel_reason',
      'version',
      'created_at',
      'updated_at',
    ] as const satisfies readonly (keyof MeetingRow)[]
  ).map((c) => `m.${c}`),
  'm.status as meeting_status',
];
type AttendanceRow = ListedParticipant & Omit<MeetingRow, 'id' | 'status'> & { meeting_status: MeetingStatus };

/**
 * A participant who has not been removed, with their meeting's own fields but not its other
 * participants: one statement for each of a guest's requests, where the whole meeting would read
 * every participant of it (up to 100 rows) to use one.
 */
export async function findAttendance(
  db: Db,
  participantId: string,
): Promise<{ participant: Participant; meeting: BareMeeting } | undefined> {
  // Aliased tables leave knex without the row's type: the statement's columns are this row's.
  const row = await db('participants as p')
    .join('meetings as m', 'm.id', 'p.meeting_id')
    .where('p.id', participantId)
    .whereNull('p.removed_at')
    .first<AttendanceRow | undefined>(attendanceColumns);
  if (!row) return undefined;
  return {
    participant: toParticipant(row),
    meeting: toBareMeeting({ ...row, id: row.meeting_id, status: row.meeting_status }),
  };
}

/**
 * The title and start of each named meeting that still exists: what a row of the audit log names its
 * meeting by, beside the id (a meeting erased since is named by its id alone).
 */
export async function meetingLabels(
  db: Db,
  ids: readonly string[],
): Promise<Map<string, { title: string; startsAt: Date }>> {
  const labels = new Map<string, { title: string; startsAt: Date }>();
  for (const part of chunks([...new Set(ids)]))
    for (const row of await db<MeetingRow>('meetings').whereIn('id', part).select('id', 'title', 'starts_at'))
      labels.set(row.id, { title: row.title, startsAt: toDate(row.starts_at) });
  return labels;
}

/** Whose calendars show a meeting: those of its care unit, and the staff named on it in any unit. */
export interface MeetingAudience {
  unitId: string;
  /**
   * Who booked it, who leads it and the colleagues invited with their account (also those removed
   * since: their calendars drop it when it changes next).
   */
  staffIds: string[];
}

/** A meeting's audience (live pages), in one statement: its row beside each participant with an account. */
export async function findMeetingAudience(db: Db, id: string): Promise<MeetingAudience | undefined> {
  type AudienceRow = Pick<MeetingRow, 'unit_id' | 'booked_by' | 'led_by'> & { staff_id: string | null };
  const rows = await db('meetings as m')
    .leftJoin('participants as p', (j) => j.on('p.meeting_id', 'm.id').andOnNotNull('p.staff_id'))
    .where('m.id', id)
    .select<AudienceRow[]>('m.unit_id', 'm.booked_by', 'm.led_by', 'p.staff_id');
  const [first] = rows;
  if (!first) return undefined;
  const staffIds = new Set([first.booked_by, first.led_by]);
  for (const r of rows) if (r.staff_id) staffIds.add(r.staff_id);
  return { unitId: first.unit_id, staffIds: [...staffIds] };
}

export interface Period {
  from: Date;
  to: Date;
  unitId?: string;
  /**
   * Besides `unitId`'s meetings, those of any unit this staff member booked, leads or takes part in
   * (not removed): a clinician's own, wherever they were booked (MeetingService.canRead).
   */
  orOf?: string;
  /** Meetings this staff member booked or leads. */
  staffId?: string;
}

/**
 * Narrows a query on `meetings` (as `m`) to the period: the indexes (unit_id, starts_at),
 * (booked_by, starts_at), (led_by, starts_at) and (starts_at) serve each form of it.
 */
function inPeriod<Q extends Knex.QueryBuilder>(q: Q, period: Period): Q {
  q.where('m.starts_at', '>=', iso(period.from)).andWhere('m.starts_at', '<', iso(period.to));
  const { unitId, orOf } = period;
  if (unitId && orOf)
    q.andWhere((w) =>
      w
        .where('m.unit_id', unitId)
        .orWhere('m.booked_by', orOf)
        .orWhere('m.led_by', orOf)
        // Not a correlated EXISTS: with each term on an indexed column the engine can find each
        // part through its index and join them (SQLite's OR-by-union, PostgreSQL's BitmapOr) instead
        // of testing every meeting of the period (bench/calendar.ts: a fifth of the calendar's rate).
        .orWhereIn('m.id', (mine) =>
          mine.select('meeting_id').from('participants').where('staff_id', orOf).whereNull('removed_at'),
        ),
    );
  else if (unitId) q.andWhere('m.unit_id', unitId);
  const staffId = period.staffId;
  if (staffId) q.andWhere((w) => w.where('m.booked_by', staffId).orWhere('m.led_by', staffId));
  return q;
}

/**
 * The meetings of a period with their participants: two statements for the whole period, however
 * many meetings it holds (the participants are found by joining the same period, not by id).
 */
export async function listMeetings(db: Db, period: Period): Promise<Meeting[]> {
  // Aliased tables leave knex without the row's type: the statements' columns are these rows'.
  const rows = (await inPeriod(db('meetings as m').select('m.*'), period).orderBy([
    'm.starts_at',
    'm.id',
  ])) as MeetingRow[];
  const byMeeting = new Map<string, Participant[]>(rows.map((r) => [r.id, []]));
  if (rows.length > 0) {
    const participants = await participantsInPeriod(db, period);
    // A meeting booked between the two statements is not in the list: its participants are skipped.
    for (const p of participants) byMeeting.get(p.meeting_id)?.push(toParticipant(p));
  }
  return rows.map((r) => toMeeting(r, byMeeting.get(r.id) ?? []));
}

/** The participants of a period's meetings (by joining the period, not by id); removed ones left out. */
async function participantsInPeriod(db: Db, period: Period): Promise<ListedParticipant[]> {
  const q = inPeriod(
    db('participants as p')
      .join('meetings as m', 'm.id', 'p.meeting_id')
      .select(participantColumns.map((c) => `p.${c}`)),
    period,
  ).whereNull('p.removed_at');
  return (await q.orderBy(['p.meeting_id', 'p.position'])) as ListedParticipant[];
}

/**
 * Support's search: a period (and unit), or one meeting by its id whenever it is; and a part of
 * someone's name or the end of their number.
 */
export interface MeetingSearch extends Period {
  meetingId?: string;
  /** A part of a participant's or proxy's name, by the name rule (case and composition do not count). */
  name?: string;
  /** The digits a participant's or proxy's mobile (E.164) ends with. */
  phoneEnd?: string;
}

/** A meeting a search found, with those removed from it (support reads why their link stopped working). */
export type FoundMeeting = Meeting & { removed: Participant[] };

/**
 * A LIKE pattern that finds every name containing `typed` by the name rule, and a few more: ASCII
 * letters by lower(), which both engines apply to them, and any other character as `_` (one
 * character, whatever its case: lower() leaves Å alone on SQLite). The rule itself decides after.
 */
function namePattern(typed: string): string {
  const key = nameKey(typed);
  let pattern = '';
  for (const c of key) pattern += /[\x20-\x7e]/.test(c) ? c.replace(/[\\%_]/g, (x) => `\\${x}`) : '_';
  return `%${pattern}%`;
}

/**
 * One page of the meetings a search finds, oldest first, and how many it finds in all: a count and
 * the page's meetings (LIMIT/OFFSET) for a period; for a name or a number, the ids of the meetings
 * with someone (removed ones too) whose name or number the database matches, checked by the name
 * rule, then the page's meetings. A page reads its own meetings and their people, never the period's.
 */
export async function searchMeetingPage(
  db: Db,
  search: MeetingSearch,
  page: { offset: number; limit: number },
): Promise<{ total: number; meetings: FoundMeeting[] }> {
  // A meeting asked for by its id is found whenever it is (in its unit, when one is chosen).
  const scope = <Q extends Knex.QueryBuilder>(q: Q): Q => {
    if (!search.meetingId) return inPeriod(q, search);
    q.where('m.id', search.meetingId);
    if (search.unitId) q.andWhere('m.unit_id', search.unitId);
    return q;
  };
  let total: number;
  let ids: string[];
  if (!search.name && !search.phoneEnd) {
    const [counted] = await scope(db('meetings as m')).count({ n: '*' });
    total = Number(counted?.n ?? 0);
    const rows = (await scope(db('meetings as m').select('m.id'))
      .orderBy(['m.starts_at', 'm.id'])
      .offset(page.offset)
      .limit(page.limit)) as Pick<MeetingRow, 'id'>[];
    ids = rows.map((r) => r.id);
  } else {
    const { name, phoneEnd } = search;
    const candidates = (await scope(
      db('participants as p')
        .join('meetings as m', 'm.id', 'p.meeting_id')
        .select('p.meeting_id', 'p.name', 'p.proxy_name', 'p.mobile', 'p.proxy_mobile'),
    )
      .andWhere((w) => {
        if (name) {
          const pattern = namePattern(name);
          w.orWhereRaw("lower(p.name) like ? escape '\\'", [pattern]);
          w.orWhereRaw("lower(p.proxy_name) like ? escape '\\'", [pattern]);
        }
        if (phoneEnd) w.orWhere('p.mobile', 'like', `%${phoneEnd}`).orWhere('p.proxy_mobile', 'like', `%${phoneEnd}`);
      })
      .orderBy(['m.starts_at', 'm.id'])) as Pick<
      ParticipantRow,
      'meeting_id' | 'name' | 'proxy_name' | 'mobile' | 'proxy_mobile'
    >[];
    const byName = new Set<string>();
    const byPhone = new Set<string>();
    const found: string[] = [];
    for (const c of candidates) {
      if (name && [c.name, c.proxy_name].some((n) => n && nameContains(n, name))) byName.add(c.meeting_id);
      if (phoneEnd && [c.mobile, c.proxy_mobile].some((m) => m?.replace(/\D/g, '').endsWith(phoneEnd)))
        byPhone.add(c.meeting_id);
      if (found.at(-1) !== c.meeting_id) found.push(c.meeting_id);
    }
    const matched = found.filter((id) => (!name || byName.has(id)) && (!phoneEnd || byPhone.has(id)));
    total = matched.length;
    ids = matched.slice(page.offset, page.offset + page.limit);
  }
  if (ids.length === 0) return { total, meetings: [] };
  const rows = await db<MeetingRow>('meetings').whereIn('id', ids);
  const people: (ListedParticipant & Pick<ParticipantRow, 'removed_at'>)[] = await db<ParticipantRow>('participants')
    .select(...participantColumns, 'removed_at')
    .whereIn('meeting_id', ids)
    .orderBy(['meeting_id', 'position']);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return {
    total,
    meetings: ids.flatMap((id) => {
      const row = byId.get(id);
      if (!row) return [];
      const theirs = people.filter((p) => p.meeting_id === id);
      return [
        {
          ...toMeeting(row, theirs.filter((p) => p.removed_at === null).map(toParticipant)),
          removed: theirs.filter((p) => p.removed_at !== null).map(toParticipant),
        },
      ];
    }),
  };
}

/** One row of the calendar's query: a meeting's columns beside one of its people (none: nulls). */
type CalendarRow = Pick<MeetingRow, 'id' | 'title' | 'starts_at' | 'duration_minutes' | 'status'> & {
  name: string | null;
  kind: ParticipantKind | null;
};

/**
 * What the calendar shows of a period, in one statement: each meeting's time, title and status,
 * and the name and kind of each participant in the routine's order. No contact data, nothing else.
 */
export async function listCalendar(db: Db, period: Period): Promise<CalendarEntry[]> {
  const rows = (await inPeriod(
    db('meetings as m')
      .leftJoin('participants as p', (j) => j.on('p.meeting_id', 'm.id').andOnNull('p.removed_at'))
      .select('m.id', 'm.title', 'm.starts_at', 'm.duration_minutes', 'm.status', 'p.name', 'p.kind'),
    period,
  ).orderBy(['m.starts_at', 'm.id', 'p.position'])) as CalendarRow[];
  const entries: CalendarEntry[] = [];
  let last: CalendarEntry | undefined;
  for (const r of rows) {
    if (last?.id !== r.id) {
      last = {
        id: r.id,
        title: r.title,
        startsAt: toDate(r.starts_at),
        durationMinutes: Number(r.duration_minutes),
        status: r.status,
        people: [],
      };
      entries.push(last);
    }
    if (r.name !== null && r.kind !== null) last.people.push({ name: r.name, kind: r.kind });
  }
  return entries;
}

export type MeetingColumns = Partial<{
  title: string;
  startsAt: Date;
  durationMinutes: number;
  ledBy: string;
  documentationPlan: string;
  status: MeetingStatus;
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
  const row: Partial<MeetingRow> = { version: version + 1, updated_at: iso(at) };
  if (changes.title !== undefined) row.title = changes.title;
  if (changes.startsAt !== undefined) row.starts_at = iso(changes.startsAt);
  if (changes.durationMinutes !== undefined) row.duration_minutes = changes.durationMinutes;
  if (changes.ledBy !== undefined) row.led_by = changes.ledBy;
  if (changes.documentationPlan !== undefined) row.documentation_plan = changes.documentationPlan;
  if (changes.status !== undefined) row.status = changes.status;
  if (changes.cancelReason !== undefined) row.cancel_reason = changes.cancelReason;
  const n = await trx<MeetingRow>('meetings').where({ id, version }).update(row);
  return n === 1;
}

export async function removeParticipant(trx: Db, participantId: string, at = new Date()): Promise<void> {
  await trx<ParticipantRow>('participants')
    .where({ id: participantId })
    .update({ removed_at: iso(at) });
}

/**
 * A participant's own mobile number (with the country it was read for) and e-mail address, or their
 * proxy's, corrected after booking (the same columns insertParticipants writes, in clear like
 * there; only the personal numbers are sealed).
 */
export async function setReach(
  trx: Db,
  participantId: string,
  reach: Partial<Record<ContactPerson, { country: string; mobile: string | null; email: string | null }>>,
): Promise<void> {
  const columns: Partial<ParticipantRow> = {
    ...(reach.main ? { country: reach.main.country, mobile: reach.main.mobile, email: reach.main.email } : {}),
    ...(reach.proxy
      ? { proxy_country: reach.proxy.country, proxy_mobile: reach.proxy.mobile, proxy_email: reach.proxy.email }
      : {}),
  };
  if (Object.keys(columns).length > 0)
    await trx<ParticipantRow>('participants').where({ id: participantId }).update(columns);
}

export async function nextPosition(trx: Db, meetingId: string): Promise<number> {
  const row: { n?: number | null } | undefined = await trx<ParticipantRow>('participants')
    .where({ meeting_id: meetingId })
    .max({ n: 'position' })
    .first();
  return row?.n == null ? 0 : Number(row.n) + 1;
}

/**
 * Moves a participant's status. Until they reach the waiting room the steps only go forward (a
 * late delivery receipt must not undo "identified"); from there on they come and go (waiting,
 * joined, left, joined again), except that the waiting room does not take a joined participant out.
 */
export async function setParticipantStatus(db: Db, participantId: string, status: ParticipantStatus): Promise<boolean> {
  return (await setParticipantsStatus(db, [participantId], status)).length === 1;
}

/** The same for many participants (a batch of delivered invitations): the ids whose status moved. */
export async function setParticipantsStatus(db: Db, ids: string[], status: ParticipantStatus): Promise<string[]> {
  const moved: string[] = [];
  const step = participantStatuses.indexOf(status);
  for (const part of chunks(ids)) {
    const q = db<ParticipantRow>('participants').whereIn('id', part).whereNull('removed_at');
    if (step < participantStatuses.indexOf('waiting')) q.whereIn('status', participantStatuses.slice(0, step));
    // The patient and their proxy share one status: one of them in the room keeps it "joined" while
    // the other opens the waiting room (or a page reloads there before Prosody reports the leave).
    if (status === 'waiting') q.whereNot('status', 'joined');
    const rows: { id: string }[] = await q.update({ status }).returning('id');
    moved.push(...rows.map((r) => r.id));
  }
  return moved;
}

export async function insertChange(trx: Db, change: MeetingChange, at = new Date()): Promise<void> {
  const payload = change.payload as { meetingId: string; byStaffId: string; participantId?: string };
  await trx<MeetingEventRow>('meeting_events').insert({
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
  const rows = await db<MeetingEventRow>('meeting_events').where({ meeting_id: meetingId }).orderBy('id');
  return rows.map((r) => ({
    id: Number(r.id),
    type: r.type,
    meetingId: r.meeting_id,
    participantId: r.participant_id ?? null,
    staffId: r.staff_id ?? null,
    at: toDate(r.at),
    payload: JSON.parse(r.payload) as Record<string, unknown>,
  }));
}

/** Whether `dataKey` opens the personal identity numbers already sealed (one of them tells). */
export async function dataKeyOpensSealed(db: Db, dataKey: Buffer): Promise<boolean> {
  const column = 'personal_number_sealed';
  const row = await db<ParticipantRow>('participants').whereNotNull(column).first(column);
  const sealed = row?.[column];
  if (!sealed) return true;
  try {
    decrypt(dataKey, sealed, sealContext(column));
    return true;
  } catch {
    return false;
  }
}

/**
 * Gives the patients booked before migration 0020 (whose numbers are still sealed) their
 * patientRef, at start: retention would otherwise erase the number before the extract could keep it.
 */
export async function fillPatientRefs(db: Db, dataKey: Buffer): Promise<number> {
  const column = 'personal_number_sealed';
  // Only rows that still hold a number, found by the masked number's index (a range: SQLite takes
  // no index for IS NOT NULL); the keyed number is checked here, not in SQL, where SQLite would
  // take its index and walk every row without one (every guest's). Runs at every start.
  const candidates: Pick<ParticipantRow, 'id' | 'kind' | 'personal_number_sealed' | 'patient_ref'>[] =
    await db<ParticipantRow>('participants')
      .where('personal_number_masked', '>', '')
      .select('id', 'kind', column, 'patient_ref');
  const rows = candidates.filter((r) => isPatient(r.kind) && r[column] && !r.patient_ref);
  let filled = 0;
  for (const row of rows) {
    let number: string;
    try {
      number = decrypt(dataKey, row[column]!, sealContext(column));
    } catch {
      // A value that does not open (damaged) must not stop the start: that row stays as it was.
      continue;
    }
    await db<ParticipantRow>('participants')
      .where({ id: row.id })
      .update({ patient_ref: patientRef(dataKey, number) });
    filled += 1;
  }
  return filled;
}

/** How many rows a retention statement reads at a time. */
const retentionBatch = 500;

/**
 * The audit log's period has passed for the meetings that ended before `before` (its records of
 * them are purged): the patients' keyed numbers, kept for the log extract alone, go too, and the
 * meeting is marked done (`patient_refs_forgotten_at`, migration 0027). Only the meetings not yet
 * done are read, by their start, a batch at a time: not the years of meetings done before. Returns
 * how many participants lost theirs.
 */
export async function forgetPatientRefs(db: Db, before: Date, now = new Date()): Promise<number> {
  let count = 0;
  for (;;) {
    const batch: Pick<MeetingRow, 'id' | 'starts_at' | 'duration_minutes'>[] = await db<MeetingRow>('meetings')
      .whereNull('patient_refs_forgotten_at')
      .where('starts_at', '<', iso(before))
      .orderBy('starts_at')
      .limit(retentionBatch)
      .select('id', 'starts_at', 'duration_minutes');
    const ended = endedBy(batch, before);
    for (const ids of chunks(ended)) {
      count += await db<ParticipantRow>('participants')
        .whereIn('meeting_id', ids)
        .whereNotNull('patient_ref')
        .update({ patient_ref: null });
      await db<MeetingRow>('meetings')
        .whereIn('id', ids)
        .update({ patient_refs_forgotten_at: iso(now) });
    }
    // Those left in a batch started within a day of the cut-off and have not ended: the next run's.
    if (batch.length < retentionBatch || ended.length === 0) return count;
  }
}

/** The clear personal identity number, for identifying the person with BankID (never for display). */
export async function personalNumberOf(
  db: Db,
  participantId: string,
  dataKey: Buffer,
  who: 'patient' | 'proxy' = 'patient',
): Promise<string | null> {
  const column = who === 'proxy' ? 'proxy_personal_number_sealed' : 'personal_number_sealed';
  const row = await db<ParticipantRow>('participants').where({ id: participantId }).first(column);
  const sealed = row?.[column];
  return sealed ? decrypt(dataKey, sealed, sealContext(column)) : null;
}

/** One participant, also after removal (the removed person is still told the meeting is off). */
export async function findParticipant(db: Db, participantId: string): Promise<Participant | undefined> {
  const row = await db<ParticipantRow>('participants').where({ id: participantId }).first();
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
  const earlier: Record<RoomStatus, MeetingStatus[]> = {
    open: ['booked'],
    in_progress: ['booked', 'open'],
    ended: ['booked', 'open', 'in_progress'],
  };
  const n = await db<MeetingRow>('meetings')
    .where({ id: meetingId })
    .whereIn('status', earlier[status])
    .update({ status, updated_at: iso(at) });
  return n === 1;
}

/**
 * The meetings that ended (start + duration) before `before`; with `among`, only those of these
 * (a purge that knows which meetings still hold its data asks about those alone, not about every
 * meeting ever held).
 */
export async function meetingsEndedBefore(db: Db, before: Date, among?: readonly string[]): Promise<string[]> {
  // The end is start + duration; the longest meeting is a day, so candidates start before `before`.
  const startedBefore = () => db<MeetingRow>('meetings').where('starts_at', '<', iso(before));
  const candidates = among
    ? (
        await Promise.all(
          chunks(among).map((ids) => startedBefore().whereIn('id', ids).select('id', 'starts_at', 'duration_minutes')),
        )
      ).flat()
    : await startedBefore().select('id', 'starts_at', 'duration_minutes');
  return endedBy(candidates, before);
}

const endedBy = (meetings: Pick<MeetingRow, 'id' | 'starts_at' | 'duration_minutes'>[], before: Date) =>
  meetings
    .filter((m) => toDate(m.starts_at).getTime() + Number(m.duration_minutes) * 60_000 < before.getTime())
    .map((m) => m.id);

/**
 * Retention's candidates: the meetings that ended before `before` and whose participants still
 * hold what `holding` names, a batch at a time in the order of their ids. The read goes through
 * the partial index of that holding (migration 0027, whose predicate `holding` must say word for
 * word): it holds only the rows not erased yet, so the run reads the period's rows (and the
 * bookings ahead), not the years of meetings whose data went long ago. Which of those meetings
 * ended is asked by their ids. The caller erases each batch before the next is read.
 */
async function* meetingsEndedHolding(
  db: Db,
  before: Date,
  holding: (w: Knex.QueryBuilder) => void,
): AsyncGenerator<string[]> {
  let after = '';
  for (;;) {
    const rows: Pick<ParticipantRow, 'meeting_id'>[] = await db<ParticipantRow>('participants')
      .where(holding)
      .where('meeting_id', '>', after)
      .orderBy('meeting_id')
      .limit(retentionBatch)
      .select('meeting_id');
    const last = rows.at(-1);
    if (!last) return;
    const ended = await meetingsEndedBefore(db, before, [...new Set(rows.map((r) => r.meeting_id))]);
    if (ended.length > 0) yield ended;
    if (rows.length < retentionBatch) return;
    after = last.meeting_id;
  }
}

// Each person's own contact columns: a patient's row holds their proxy's too, and each of the two
// may ask for their own erasure alone.
const contactColumnsOf = {
  main: ['mobile', 'email', 'personal_number_sealed', 'personal_number_masked'],
  proxy: ['proxy_mobile', 'proxy_email', 'proxy_personal_number_sealed', 'proxy_personal_number_masked'],
} as const satisfies Record<ContactPerson, readonly (keyof ParticipantRow)[]>;
const contactColumnNames = [...contactColumnsOf.main, ...contactColumnsOf.proxy];
const erasedColumns = (columns: readonly (keyof ParticipantRow)[]) =>
  Object.fromEntries(columns.map((column) => [column, null])) as Partial<ParticipantRow>;

/**
 * Retention: erases the mobile numbers, e-mail addresses and personal identity numbers of every
 * participant (and proxy) of the meetings that ended before `before`. Names stay: the meeting
 * record keeps who took part. Asked only of the participants that still hold contact data.
 * Returns how many participants had contact data erased.
 */
export async function eraseContactsOfMeetingsEndedBefore(db: Db, before: Date): Promise<number> {
  const holdingContacts = (w: Knex.QueryBuilder) => {
    for (const column of contactColumnNames) w.orWhereNotNull(column);
  };
  let count = 0;
  for await (const ids of meetingsEndedHolding(db, before, holdingContacts)) {
    count += await db<ParticipantRow>('participants')
      .whereIn('meeting_id', ids)
      .andWhere(holdingContacts)
      .update(erasedColumns(contactColumnNames));
  }
  return count;
}

/**
 * A privacy request: erases one person's mobile, e-mail and personal identity number - the
 * participant's own, or their proxy's - and nobody else's. The name stays. Returns false when there
 * is no such participant.
 */
export async function eraseParticipantContacts(db: Db, participantId: string, person: ContactPerson): Promise<boolean> {
  const n = await db<ParticipantRow>('participants')
    .where({ id: participantId })
    .update(erasedColumns(contactColumnsOf[person]));
  return n > 0;
}

/** The room moved the meeting on: recorded beside the staff's changes, with who did it (if anyone). */
export async function insertStatusChange(
  trx: Db,
  change: { meetingId: string; status: RoomStatus; byStaffId: string | null },
  at = new Date(),
): Promise<void> {
  await trx<MeetingEventRow>('meeting_events').insert({
    meeting_id: change.meetingId,
    participant_id: null,
    type: 'meeting.status',
    staff_id: change.byStaffId,
    at: iso(at),
    payload: JSON.stringify(change),
  });
}
