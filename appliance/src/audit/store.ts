// The audit log (Patientdatalagen): who did what to which meeting or participant, when, from where.
// Rows are only ever inserted by the application.
import type { Db } from '../db/knex.ts';
import { iso, toDate, type DbBigint } from '../db/values.ts';
import type { AuditAction } from './actions.ts';
import { must } from '../common/must.ts';

export interface AuditTarget {
  targetType?: string;
  targetId?: string;
  meetingId?: string;
  participantId?: string;
  details?: Record<string, unknown>;
  /**
   * What a failed login gave that names no account, kept beside the record, not in it, and only for
   * the retention period of typed addresses (`forgetTypedAddresses`, RETENTION_LOGIN_ADDRESS_DAYS):
   * an e-mail address typed (it may be a patient's, or a private address mistyped), read back into
   * the details as `email`; or the HSA-ID the identity provider vouched for (someone without an
   * account here, who is no user of the appliance), read back as `hsaId` (the record's method oidc).
   */
  typedAddress?: string;
}

export interface AuditEntry extends AuditTarget {
  action: AuditAction;
  staffId?: string | null;
  staffRole?: string | null;
  unitId?: string | null;
  ip?: string | null;
}

export interface AuditRecord extends Omit<AuditEntry, 'action'> {
  /** As stored: an action recorded by an older version may no longer be in the list. */
  action: string;
  id: number;
  at: Date;
}

export async function insertAudit(db: Db, entry: AuditEntry, at = new Date()): Promise<void> {
  const row = {
    at: iso(at),
    staff_id: entry.staffId ?? null,
    staff_role: entry.staffRole ?? null,
    unit_id: entry.unitId ?? null,
    action: entry.action,
    target_type: entry.targetType ?? null,
    target_id: entry.targetId ?? null,
    meeting_id: entry.meetingId ?? null,
    participant_id: entry.participantId ?? null,
    ip: entry.ip ?? null,
    details: entry.details ? JSON.stringify(entry.details) : null,
  };
  const typed = entry.typedAddress;
  // Only a staff member's access to a meeting can be outside their unit.
  const outsideUnitPossible = row.staff_id && row.unit_id && row.meeting_id;
  if (!outsideUnitPossible && typed === undefined) {
    await db('audit_log').insert(row);
    return;
  }
  // The record and its mark or typed address commit together.
  if (!db.isTransaction) return db.transaction((trx) => insertAudit(trx, entry, at));
  const [inserted] = await db('audit_log').insert(row).returning<{ id: DbBigint }[]>('id');
  const id = must(inserted, 'the record inserted').id;
  if (typed !== undefined)
    await db('audit_typed_addresses').insert({ audit_id: id, email: typed.slice(0, 254), at: row.at });
  // Marked when the meeting belongs to another unit (migration 0022): the log check reads the marks.
  if (outsideUnitPossible)
    await db.raw(
      'insert into audit_outside_unit (audit_id) select cast(? as bigint) from meetings where id = ? and unit_id <> ?',
      [id, row.meeting_id, row.unit_id],
    );
}

export interface AuditQuery {
  staffId?: string;
  unitId?: string;
  action?: string;
  meetingId?: string;
  participantId?: string;
  from?: Date;
  to?: Date;
  /** Only records older than this one (paging back through the log). */
  beforeId?: number;
  /**
   * Only accesses to meetings of another care unit than the one the staff member worked in: the
   * first thing a systematic log check looks at (care relation, Patientdatalagen 4 kap.).
   */
  outsideUnit?: boolean;
  limit?: number;
}

export async function findAudit(db: Db, query: AuditQuery): Promise<AuditRecord[]> {
  // Outside the unit: the marks (few) lead, newest first, and each finds its record by id.
  const q = query.outsideUnit
    ? db('audit_outside_unit as o')
        .join('audit_log', 'audit_log.id', 'o.audit_id')
        .select('audit_log.*')
        .orderBy('o.audit_id', 'desc')
    : db('audit_log').select('audit_log.*').orderBy('audit_log.id', 'desc');
  q.limit(query.limit ?? 200);
  if (query.staffId) q.where('audit_log.staff_id', query.staffId);
  if (query.unitId) q.where('audit_log.unit_id', query.unitId);
  if (query.action) q.where('audit_log.action', query.action);
  if (query.meetingId) q.where('audit_log.meeting_id', query.meetingId);
  if (query.participantId) q.where('audit_log.participant_id', query.participantId);
  if (query.from) q.where('audit_log.at', '>=', iso(query.from));
  if (query.to) q.where('audit_log.at', '<', iso(query.to));
  if (query.beforeId) q.where(query.outsideUnit ? 'o.audit_id' : 'audit_log.id', '<', query.beforeId);
  return withTypedAddresses(db, (await q).map(toRecord));
}

/**
 * The addresses typed at failed logins that named no account, while they are kept beside their
 * records (migration 0033), read into the records' details as `email`: one look-up for the page.
 */
async function withTypedAddresses(db: Db, records: AuditRecord[]): Promise<AuditRecord[]> {
  const ids = records.filter((r) => r.details?.unknownAccount === true).map((r) => r.id);
  if (ids.length === 0) return records;
  const typed = new Map(
    (
      await db<{ audit_id: DbBigint; email: string }>('audit_typed_addresses')
        .whereIn('audit_id', ids)
        .select('audit_id', 'email')
    ).map((row) => [Number(row.audit_id), row.email]),
  );
  return records.map((r) => {
    const given = typed.get(r.id);
    if (given === undefined) return r;
    return { ...r, details: { ...r.details, [r.details?.method === 'oidc' ? 'hsaId' : 'email']: given } };
  });
}

/**
 * An audit_log row as the drivers return it (SQLite gives text timestamps, PostgreSQL dates and bigint ids as
 * text).
 */
interface AuditRow {
  id: number | string;
  at: string | Date;
  staff_id: string | null;
  staff_role: string | null;
  unit_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  meeting_id: string | null;
  participant_id: string | null;
  ip: string | null;
  details: string | null;
}

const toRecord = (r: AuditRow): AuditRecord => ({
  id: Number(r.id),
  at: toDate(r.at),
  staffId: r.staff_id,
  staffRole: r.staff_role,
  unitId: r.unit_id,
  action: r.action,
  targetType: r.target_type ?? undefined,
  targetId: r.target_id ?? undefined,
  meetingId: r.meeting_id ?? undefined,
  participantId: r.participant_id ?? undefined,
  ip: r.ip,
  details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : undefined,
});

/** The most records a log extract lists. */
/**
 * Records the extract's search reads per statement. Calendar listings are matched inside their
 * details, which no index serves, so the search reads the log from the first booking on: in slices
 * of ids, with the event loop free between them (SQLite's statements run on it; 0.46 s per million
 * records here).
 */
export const accessSearchSlice = 100_000;

/**
 * The id of the first of these meetings' booking records; undefined when a meeting's first record
 * is not its booking's (or there are no meetings).
 */
async function firstBooking(db: Db, meetingIds: string[]): Promise<number | undefined> {
  let first: number | undefined;
  for (const meetingId of meetingIds) {
    const record = await db<AuditRow>('audit_log')
      .select('id', 'action')
      .where('meeting_id', meetingId)
      .orderBy('id', 'asc')
      .first();
    if (record?.action !== 'meeting.book') return undefined;
    first = Math.min(first ?? Infinity, Number(record.id));
  }
  return first;
}

/**
 * Records of lists that name each meeting shown in their details' meetingIds (the list showed its
 * patient, or their address: the outbox, the status page's failed messages).
 */
const listings = ['meeting.list', 'connlog.search', 'outbox.read', 'status.read'];

/**
 * Every staff access to the data of these meetings and participants, oldest first: records naming
 * the meeting or participant, and listings that showed one of the meetings: the calendar
 * (meeting.list) and support's search of the connection logs (connlog.search), which show the
 * patient's name, and the admin's outbox and status pages (outbox.read, status.read), which show
 * the addresses messages went to. Anonymous records (failed logins) are not accesses.
 *
 * The search starts at the first of the meetings' bookings, not at the log's beginning. A booking's
 * record (meeting.book) is written in the booking's own transaction, and nothing can read a meeting
 * before that commits, so every access to it is written later and has a higher id (ids follow the
 * order records were written, on both engines). Should any of the meetings have no booking record
 * (one booked before records were kept, or the record purged with its year), the search starts at
 * the log's beginning.
 */
export async function findAccesses(
  db: Db,
  about: { meetingIds: string[]; participantIds: string[] },
  slice = accessSearchSlice,
): Promise<AuditRecord[]> {
  // Every one: an extract is the patient's legal record of access (it stopped at 10,000, oldest
  // first, and so left out the newest of a patient whose meetings a busy calendar listed often).
  // The slices keep each statement short; the page shows a part and says so (admin/audit-pages.ts).
  const { meetingIds, participantIds } = about;
  if (meetingIds.length === 0 && participantIds.length === 0) return [];
  const range: { first?: DbBigint | null; last?: DbBigint | null } | undefined = await db('audit_log')
    .min({ first: 'id' })
    .max({ last: 'id' })
    .first();
  // The search reads the ids after this one.
  const start = ((await firstBooking(db, meetingIds)) ?? Number(range?.first ?? 0)) - 1;
  const last = Number(range?.last ?? 0);
  const rows: AuditRow[] = [];
  for (let from = start; from < last; from += slice) {
    // Between slices, whatever else waits (pages, the outbox) goes first.
    if (from > start) await new Promise((resolve) => setImmediate(resolve));
    const found: AuditRow[] = await db<AuditRow>('audit_log')
      .where('id', '>', from)
      .andWhere('id', '<=', from + slice)
      .whereNotNull('staff_id')
      .andWhere((w) => {
        if (meetingIds.length > 0) w.orWhereIn('meeting_id', meetingIds);
        if (participantIds.length > 0) w.orWhereIn('participant_id', participantIds);
        // Ids are UUIDs: a match inside the listing's JSON is that meeting and no other.
        for (const id of meetingIds)
          w.orWhere((l) => l.whereIn('action', listings).andWhere('details', 'like', `%"${id}"%`));
      })
      .orderBy('id', 'asc');
    for (const row of found) rows.push(row);
  }
  return rows.map(toRecord);
}
