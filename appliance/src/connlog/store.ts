// SQL for connection log entries.
import type { Knex } from 'knex';
import { isSqlite } from '../db/knex.ts';
import { chunks, iso, toDate, type DbBigint, type DbTimestamp } from '../db/values.ts';
import { isProblem, problemRule, type Details, type LogEntry, type NewEntry } from './model.ts';

type Db = Knex | Knex.Transaction;

/** A connlog_entries row as either driver returns it. */
interface EntryRow {
  id: DbBigint;
  at: DbTimestamp;
  meeting_id: string;
  participant_id: string | null;
  type: string;
  /** JSON text (a text column on both engines). */
  details: string;
  ref: string | null;
}

const entries = (db: Db) => db<EntryRow>('connlog_entries');

function toEntry(r: EntryRow): LogEntry {
  const details = JSON.parse(r.details) as Details;
  return {
    id: Number(r.id),
    at: toDate(r.at),
    meetingId: r.meeting_id,
    participantId: r.participant_id ?? null,
    type: r.type,
    error: isProblem({ type: r.type, details }),
    details,
  };
}

const toRow = (entry: NewEntry): Omit<EntryRow, 'id'> => ({
  at: iso(entry.at),
  meeting_id: entry.meetingId,
  participant_id: entry.participantId,
  type: entry.type,
  details: JSON.stringify(entry.details),
  ref: entry.ref ?? null,
});

/** Writes an entry; one with a ref already logged for its type is ignored. */
export async function insertEntry(db: Db, entry: NewEntry): Promise<void> {
  const row = toRow(entry);
  if (entry.ref) await entries(db).insert(row).onConflict(['type', 'ref']).ignore();
  else await entries(db).insert(row);
}

/**
 * Writes many entries, in their order, a statement for each chunk of them; one with a ref already
 * logged for its type (in the table or earlier in the list) is ignored, as by insertEntry.
 */
export async function insertEntries(db: Db, list: NewEntry[]): Promise<void> {
  for (const part of chunks(list)) await entries(db).insert(part.map(toRow)).onConflict(['type', 'ref']).ignore();
}

export interface TimelineQuery {
  meetingId: string;
  participantId?: string;
  /**
   * With a participant: the meeting's own entries too (booked, room opened, ended; a colleague's),
   * which support reads their steps against. A privacy export leaves them out: they are not about
   * the person.
   */
  withMeeting?: boolean;
  onlyErrors?: boolean;
}

/** SQL for one of the row's details as text (SQLite's JSON1, PostgreSQL's json operators), and its binding. */
const detailText = (db: Db, key: string): [string, string] =>
  isSqlite(db as Knex) ? ['json_extract(details, ?)', `$.${key}`] : ['(details::json ->> ?)', key];

/**
 * The rows model.ts's problemRule calls problems, as a condition: the database judges them by
 * the same rule as isProblem, when they are read, so that "only errors" can be counted and paged.
 */
function problems(db: Db): (w: Knex.QueryBuilder) => void {
  return (w) => {
    w.whereIn('type', [...problemRule.types]);
    for (const rule of problemRule.byDetail) {
      const [detail, binding] = detailText(db, rule.key);
      const values = rule.values.map(() => '?').join(', ');
      w.orWhere((d) => d.where({ type: rule.type }).whereRaw(`${detail} in (${values})`, [binding, ...rule.values]));
    }
  };
}

/** The entries a timeline query selects (no order): a page of them, or how many there are. */
function selected(db: Db, q: TimelineQuery) {
  const query = entries(db).where({ meeting_id: q.meetingId });
  if (q.participantId && q.withMeeting)
    query.andWhere((w) => w.where({ participant_id: q.participantId }).orWhereNull('participant_id'));
  else if (q.participantId) query.andWhere({ participant_id: q.participantId });
  if (q.onlyErrors) query.andWhere(problems(db));
  return query;
}

/**
 * A meeting's timeline, oldest first (entries at the same moment in the order they were written);
 * with `page`, only that slice of it (a long meeting with many reconnects is read a page at a time).
 */
export async function timeline(
  db: Db,
  q: TimelineQuery,
  page?: { offset: number; limit: number },
): Promise<LogEntry[]> {
  const query = selected(db, q).orderBy([
    { column: 'at', order: 'asc' },
    { column: 'id', order: 'asc' },
  ]);
  if (page) query.offset(page.offset).limit(page.limit);
  return (await query).map(toEntry);
}

/** How many entries a timeline query selects. */
export async function countTimeline(db: Db, q: TimelineQuery): Promise<number> {
  const [row] = await selected(db, q).count({ n: '*' });
  return Number(row?.n ?? 0);
}

/** Entries and errors per meeting, for the search results. */
export async function countsByMeeting(
  db: Db,
  meetingIds: string[],
): Promise<Map<string, { entries: number; errors: number }>> {
  const counts = new Map<string, { entries: number; errors: number }>();
  const perMeeting = (query: Knex.QueryBuilder): Promise<{ meeting_id: string; n: DbBigint }[]> =>
    query.groupBy('meeting_id').select('meeting_id').count({ n: '*' });
  for (const ids of chunks(meetingIds)) {
    for (const r of await perMeeting(entries(db).whereIn('meeting_id', ids)))
      counts.set(r.meeting_id, { entries: Number(r.n), errors: 0 });
    for (const r of await perMeeting(entries(db).whereIn('meeting_id', ids).andWhere(problems(db)))) {
      const c = counts.get(r.meeting_id);
      if (c) c.errors = Number(r.n);
    }
  }
  return counts;
}

/**
 * Retention's candidates: the meetings with entries older than `before`, read by the index on `at`.
 * A meeting that ended before `before` has such entries (its booking's, at least), and one whose
 * entries are all younger - written after its end - is found once they are old enough: what this
 * reads is the log still kept, however many meetings were held before it.
 */
export async function meetingsLoggedBefore(db: Db, before: Date): Promise<string[]> {
  // Not DISTINCT: SQLite would answer it by scanning the whole (meeting_id, at) index instead.
  const rows: Pick<EntryRow, 'meeting_id'>[] = await entries(db).where('at', '<', iso(before)).select('meeting_id');
  return [...new Set(rows.map((r) => r.meeting_id))];
}

/**
 * Retention: the entries of these meetings (those that ended more than the period ago). The period
 * counts from the meeting, not from each entry: a meeting booked further ahead than the period
 * keeps its booking's entries until it has been held.
 */
export async function deleteEntriesOf(db: Db, meetingIds: readonly string[]): Promise<number> {
  let removed = 0;
  for (const ids of chunks(meetingIds)) removed += await entries(db).whereIn('meeting_id', ids).delete();
  return removed;
}

/**
 * Details that tell a person's own device and network (the address, browser and system the meeting
 * page reported from, a link refused, a test's camera, microphone and speaker names).
 */
const deviceDetails = new Set(['address', 'browser', 'os', 'cameraDevice', 'microphoneDevice', 'speakerDevice']);

/**
 * A privacy erasure: one person's entries of a participant (the participant's own, or their
 * proxy's, as `person`) lose the details that tell their device and network; the event, its time
 * and its other details stay, for support's statistics. Returns how many entries changed.
 */
export async function eraseDeviceDetails(
  db: Db,
  of: { meetingId: string; participantId: string; person: 'main' | 'proxy' },
): Promise<number> {
  // By the meeting's index: a participant's entries are among their meeting's.
  const rows = await entries(db)
    .where({ meeting_id: of.meetingId, participant_id: of.participantId })
    .select('id', 'details');
  let changed = 0;
  for (const row of rows) {
    const details = JSON.parse(row.details) as Details;
    if ((details.person === 'proxy') !== (of.person === 'proxy')) continue;
    const kept = Object.entries(details).filter(([key]) => !deviceDetails.has(key));
    if (kept.length === Object.keys(details).length) continue;
    await entries(db)
      .where({ id: row.id })
      .update({ details: JSON.stringify(Object.fromEntries(kept)) });
    changed++;
  }
  return changed;
}
