// SQL for question sets, respondents and responses. Rows are mapped to the model here, once.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { addDays, fromClinicTime, toClinicTime } from '../common/clock.ts';
import { must } from '../common/must.ts';
import { sha256 } from '../crypto.ts';
import { chunks, iso, toDate, type DbBigint, type DbBoolean, type DbTimestamp } from '../db/values.ts';
import type { Answers, Question, QuestionSet, Respondent, RespondentRole } from './model.ts';

type Db = Knex | Knex.Transaction;

// The rows as either driver returns them (db/values.ts); questions and answers are JSON text.
interface SetRow {
  id: string;
  unit_id: string | null;
  role: RespondentRole;
  version: number;
  questions: string;
  created_by: string | null;
  created_at: DbTimestamp;
}

interface RespondentRow {
  id: string;
  meeting_id: string;
  unit_id: string;
  subject: string;
  role: RespondentRole;
  meeting_at: DbTimestamp;
  token_hash: string | null;
  expires_at: DbTimestamp | null;
  requested_at: DbTimestamp | null;
  answered_at: DbTimestamp | null;
}

interface ResponseTableRow {
  id: string;
  set_id: string;
  unit_id: string;
  role: RespondentRole;
  /** The meeting's day, YYYY-MM-DD. */
  meeting_on: string;
  answers: string;
  /** Rewritten in the order of the ids by the nightly run (settleAnswers); false until then. */
  settled?: DbBoolean;
}

const setTable = (db: Db) => db<SetRow>('evaluation_sets');
const respondentTable = (db: Db) => db<RespondentRow>('evaluation_respondents');
const responseTable = (db: Db) => db<ResponseTableRow>('evaluation_responses');

const toSet = (r: SetRow): QuestionSet => ({
  id: r.id,
  unitId: r.unit_id ?? null,
  role: r.role,
  version: Number(r.version),
  questions: JSON.parse(r.questions) as Question[],
  createdAt: toDate(r.created_at),
});

const toRespondent = (r: RespondentRow): Respondent => ({
  id: r.id,
  meetingId: r.meeting_id,
  unitId: r.unit_id,
  subject: r.subject,
  role: r.role,
  meetingAt: toDate(r.meeting_at),
  expiresAt: toDate(r.expires_at, true),
  answeredAt: toDate(r.answered_at, true),
});

/** The latest version for the unit and role, or else the project's default for the role. */
export async function currentSet(db: Db, unitId: string, role: RespondentRole): Promise<QuestionSet> {
  const own = await setTable(db).where({ unit_id: unitId, role }).orderBy('version', 'desc').first();
  if (own) return toSet(own);
  const fallback = await setTable(db).whereNull('unit_id').andWhere({ role }).orderBy('version', 'desc').first();
  if (!fallback) throw new Error(`no default evaluation questions for ${role}: run the migrations`);
  return toSet(fallback);
}

export async function findSet(db: Db, id: string): Promise<QuestionSet | undefined> {
  const row = await setTable(db).where({ id }).first();
  return row ? toSet(row) : undefined;
}

/** Saves an edit as the unit's next version: answers already given keep pointing at theirs. */
export async function insertSetVersion(
  db: Db,
  unitId: string,
  role: RespondentRole,
  questions: Question[],
  createdBy: string,
  now = new Date(),
): Promise<QuestionSet> {
  return db.transaction(async (trx) => {
    const last: { v?: number | null } | undefined = await setTable(trx)
      .where({ unit_id: unitId, role })
      .max({ v: 'version' })
      .first();
    const version = last?.v == null ? 2 : last.v + 1; // version 1 is the default the unit started from
    const id = randomUUID();
    await setTable(trx).insert({
      id,
      unit_id: unitId,
      role,
      version,
      questions: JSON.stringify(questions),
      created_by: createdBy,
      created_at: iso(now),
    });
    return toSet((await setTable(trx).where({ id }).first())!);
  });
}

export interface NewRespondent {
  meetingId: string;
  unitId: string;
  subject: string;
  role: RespondentRole;
  meetingAt: Date;
}

/** The respondent for this person and meeting, created on first need. */
export async function ensureRespondent(db: Db, respondent: NewRespondent): Promise<Respondent> {
  await respondentTable(db)
    .insert({
      id: randomUUID(),
      meeting_id: respondent.meetingId,
      unit_id: respondent.unitId,
      subject: respondent.subject,
      role: respondent.role,
      meeting_at: iso(respondent.meetingAt),
    })
    .onConflict(['meeting_id', 'subject'])
    .ignore();
  return must(await findRespondent(db, respondent.meetingId, respondent.subject), 'the respondent just created');
}

/** Gives a respondent a link token (only its hash is kept); false when they have answered or already have one. */
export async function setRequestToken(
  db: Db,
  respondentId: string,
  token: string,
  expiresAt: Date,
  now = new Date(),
): Promise<boolean> {
  const n = await respondentTable(db)
    .where({ id: respondentId })
    .whereNull('answered_at')
    .whereNull('requested_at')
    .update({ token_hash: sha256(token), expires_at: iso(expiresAt), requested_at: iso(now) });
  return n === 1;
}

/**
 * A new link for a request already made (the first one's SMS never arrived, and the e-mail in its
 * place needs a link of its own: only the hash is kept). False once the person has answered.
 */
export async function renewRequestToken(db: Db, meetingId: string, subject: string, token: string): Promise<boolean> {
  const n = await respondentTable(db)
    .where({ meeting_id: meetingId, subject })
    .whereNull('answered_at')
    .whereNotNull('requested_at')
    .update({ token_hash: sha256(token) });
  return n === 1;
}

export async function respondentByToken(db: Db, token: string): Promise<Respondent | undefined> {
  const row = await respondentTable(db)
    .where({ token_hash: sha256(token) })
    .first();
  return row ? toRespondent(row) : undefined;
}

export async function findRespondent(db: Db, meetingId: string, subject: string): Promise<Respondent | undefined> {
  const row = await respondentTable(db).where({ meeting_id: meetingId, subject }).first();
  return row ? toRespondent(row) : undefined;
}

/**
 * Records one person's answers: marks the respondent answered (only once: a second answer finds
 * it taken and writes nothing) and stores the answers apart from them, in one transaction. The
 * link's token hash stays, so that opening the link again says "you have already answered"
 * instead of "the link does not work"; it leads to the respondent, never to the answers.
 */
export async function recordResponse(
  db: Knex,
  respondent: Respondent,
  set: QuestionSet,
  answers: Answers,
  now = new Date(),
): Promise<boolean> {
  return db.transaction(async (trx) => {
    // The day only (its midnight on the clinic's clock): the moment would tell, beside the order
    // the answers were written in, which answer was this person's.
    const taken = await respondentTable(trx)
      .where({ id: respondent.id })
      .whereNull('answered_at')
      .update({ answered_at: iso(fromClinicTime(toClinicTime(now).date)) });
    if (taken !== 1) return false;
    await responseTable(trx).insert({
      id: randomUUID(),
      set_id: set.id,
      unit_id: respondent.unitId,
      role: respondent.role,
      // The day on the clinic's clock, as the report's period is chosen: a meeting at 00:30 is that day's.
      meeting_on: toClinicTime(respondent.meetingAt).date,
      answers: JSON.stringify(answers),
    });
    return true;
  });
}

export interface ReportQuery {
  unitId: string;
  /** Meetings on or after this day (YYYY-MM-DD) … */
  from: string;
  /** … and on or before this day. */
  to: string;
  role?: RespondentRole;
}

export interface ResponseRow {
  setId: string;
  role: RespondentRole;
  answers: Answers;
}

export async function responsesFor(db: Db, q: ReportQuery): Promise<ResponseRow[]> {
  const rows: Pick<ResponseTableRow, 'set_id' | 'role' | 'answers'>[] = await responseTable(db)
    .where({ unit_id: q.unitId })
    .andWhere('meeting_on', '>=', q.from)
    .andWhere('meeting_on', '<=', q.to)
    .modify((b) => (q.role ? b.andWhere({ role: q.role }) : b))
    .select('set_id', 'role', 'answers');
  return rows.map((r) => ({ setId: r.set_id, role: r.role, answers: JSON.parse(r.answers) as Answers }));
}

/** How many were asked (or reached the page) for meetings in the period: the response rate's base. */
export async function countRespondents(db: Db, q: ReportQuery): Promise<number> {
  const [{ n } = { n: 0 }]: { n: DbBigint }[] = await respondentTable(db)
    .where({ unit_id: q.unitId })
    // The period's days on the clinic's clock, as the answers' meeting_on.
    .andWhere('meeting_at', '>=', iso(fromClinicTime(q.from)))
    .andWhere('meeting_at', '<', iso(fromClinicTime(addDays(q.to, 1))))
    .modify((b) => (q.role ? b.andWhere({ role: q.role }) : b))
    .count({ n: '*' });
  return Number(n);
}

export async function setsByIds(db: Db, ids: string[]): Promise<QuestionSet[]> {
  if (ids.length === 0) return [];
  return (await setTable(db).whereIn('id', ids)).map(toSet);
}

/**
 * Retention: answers and respondents of meetings on days before the day of `before` (answers keep
 * only the meeting's day, so both are cut at the same midnight, on the clinic's clock).
 */
export async function deleteAnswersBefore(db: Db, before: Date): Promise<{ responses: number; respondents: number }> {
  const day = toClinicTime(before).date;
  const responses = await responseTable(db).where('meeting_on', '<', day).delete();
  const respondents = await respondentTable(db)
    .where('meeting_at', '<', iso(fromClinicTime(day)))
    .delete();
  return { responses, respondents };
}

/**
 * Unlinks the answers given since the last run from the order they were written in: they are
 * deleted and written again, sorted by their random ids, in one transaction (on SQLite new rowids
 * in that order, on PostgreSQL one xmin for all and their heap order). Until it runs, the day's
 * answers stand in the order given; it runs nightly with retention. Returns how many it rewrote.
 */
export async function settleAnswers(db: Knex): Promise<number> {
  return db.transaction(async (trx) => {
    const fresh: ResponseTableRow[] = await responseTable(trx)
      // Said as the partial index's predicate, not with a bound false: SQLite must see that it applies.
      .whereRaw('settled = false')
      .select('id', 'set_id', 'unit_id', 'role', 'meeting_on', 'answers');
    if (fresh.length === 0) return 0;
    const ids = fresh.map((r) => r.id);
    for (const part of chunks(ids)) await responseTable(trx).whereIn('id', part).delete();
    const sorted = fresh.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const part of chunks(sorted, 100)) await responseTable(trx).insert(part.map((r) => ({ ...r, settled: true })));
    return fresh.length;
  });
}
