// SQL for the way in: each invited person's entry state, and guest sessions.
import type { Knex } from 'knex';
import { rowsOf, timestampParam, type Db } from '../db/knex.ts';
import { iso, toDate, type DbTimestamp } from '../db/values.ts';

/** The patient or guest themself, or the patient's proxy (ombud), who has a link of their own. */
export type LinkPerson = 'main' | 'proxy';

export type IdentifiedBy = 'name' | 'sms' | 'bankid' | 'siths';

export interface EntryState {
  participantId: string;
  person: LinkPerson;
  boundSession: string | null;
  boundAt: Date | null;
  nameFailures: number;
  lockedAt: Date | null;
  identifiedBy: IdentifiedBy | null;
  identifiedAt: Date | null;
  codeHash: string | null;
  codeExpiresAt: Date | null;
  codeFailures: number;
  codesSent: number;
  lastCodeAt: Date | null;
  /** Returns from the identity provider as someone else than the invited person (staff see them). */
  identityMismatches: number;
  identityMismatchAt: Date | null;
}

type Tx = Db | Knex.Transaction;

// The rows as either driver returns them (db/values.ts).
interface PersonRow {
  participant_id: string;
  person: LinkPerson;
  bound_session: string | null;
  bound_at: DbTimestamp | null;
  name_failures: number;
  locked_at: DbTimestamp | null;
  identified_by: IdentifiedBy | null;
  identified_at: DbTimestamp | null;
  code_hash: string | null;
  code_expires_at: DbTimestamp | null;
  code_failures: number;
  codes_sent: number;
  last_code_at: DbTimestamp | null;
  identity_mismatches: number;
  identity_mismatch_at: DbTimestamp | null;
}

interface GuestSessionRow {
  id: string;
  participant_id: string;
  person: LinkPerson;
  meeting_id: string;
  created_at: DbTimestamp;
  expires_at: DbTimestamp;
}

const persons = (db: Tx) => db<PersonRow>('entry_persons');
const guestSessions = (db: Tx) => db<GuestSessionRow>('guest_sessions');

const toState = (r: PersonRow): EntryState => ({
  participantId: r.participant_id,
  person: r.person,
  boundSession: r.bound_session ?? null,
  boundAt: toDate(r.bound_at, true),
  nameFailures: Number(r.name_failures),
  lockedAt: toDate(r.locked_at, true),
  identifiedBy: r.identified_by ?? null,
  identifiedAt: toDate(r.identified_at, true),
  codeHash: r.code_hash ?? null,
  codeExpiresAt: toDate(r.code_expires_at, true),
  codeFailures: Number(r.code_failures),
  codesSent: Number(r.codes_sent),
  lastCodeAt: toDate(r.last_code_at, true),
  identityMismatches: Number(r.identity_mismatches),
  identityMismatchAt: toDate(r.identity_mismatch_at, true),
});

const key = (participantId: string, person: LinkPerson) => ({ participant_id: participantId, person });

/** Creates the person's row on first use: the writes below update it. */
async function ensurePerson(db: Tx, participantId: string, person: LinkPerson): Promise<void> {
  await persons(db).insert(key(participantId, person)).onConflict(['participant_id', 'person']).ignore();
}

/** The person's state, created on first use. */
export async function entryState(db: Tx, participantId: string, person: LinkPerson): Promise<EntryState> {
  await ensurePerson(db, participantId, person);
  return toState((await persons(db).where(key(participantId, person)).first())!);
}

/**
 * The person's state as it stands, without writing: a person not seen yet has the fresh state. Reads
 * (opening a link, showing a page) commit nothing; the writes below create the row when they need it.
 */
export async function readEntryState(db: Tx, participantId: string, person: LinkPerson): Promise<EntryState> {
  return stateOrFresh(await persons(db).where(key(participantId, person)).first(), participantId, person);
}

/**
 * The state columns of entry_persons (`e`), for a statement that reads another entry table (the link,
 * the guest session) with the person's state: one statement where there were two.
 */
export const stateColumns = [
  'e.bound_session',
  'e.bound_at',
  'e.name_failures',
  'e.locked_at',
  'e.identified_by',
  'e.identified_at',
  'e.code_hash',
  'e.code_expires_at',
  'e.code_failures',
  'e.codes_sent',
  'e.last_code_at',
  'e.identity_mismatches',
  'e.identity_mismatch_at',
] as const satisfies readonly `e.${keyof PersonRow}`[];
/** What `stateColumns` read through a left join: all null for a person not seen yet. */
export type JoinedState = { [C in keyof PersonRow]: PersonRow[C] | null };

/** Joins a person's row as `e` onto a statement whose table (`alias`) has participant_id and person. */
export const joinState = (alias: string) => (join: Knex.JoinClause) =>
  join.on('e.participant_id', `${alias}.participant_id`).andOn('e.person', `${alias}.person`);

/** The state a left join read, or the fresh state of a person not seen yet. */
export function stateOrFresh(
  row: Partial<JoinedState> | undefined,
  participantId: string,
  person: LinkPerson,
): EntryState {
  // name_failures is NOT NULL in a row that exists: a null one is the left join's missing row.
  return row?.name_failures != null
    ? toState({ ...(row as PersonRow), participant_id: participantId, person })
    : {
        participantId,
        person,
        boundSession: null,
        boundAt: null,
        nameFailures: 0,
        lockedAt: null,
        identifiedBy: null,
        identifiedAt: null,
        codeHash: null,
        codeExpiresAt: null,
        codeFailures: 0,
        codesSent: 0,
        lastCodeAt: null,
        identityMismatches: 0,
        identityMismatchAt: null,
      };
}

export async function entryStatesOf(db: Db, participantIds: string[]): Promise<EntryState[]> {
  if (participantIds.length === 0) return [];
  return (await persons(db).whereIn('participant_id', participantIds)).map(toState);
}

/** Runs a conditional UPDATE (or upsert) … RETURNING: the row as changed, or undefined when the condition failed. */
async function updateReturning(db: Tx, sql: string, bindings: unknown[]): Promise<PersonRow | undefined> {
  return rowsOf<PersonRow>(await db.raw(sql, bindings as Knex.RawBinding[]))[0];
}

/**
 * Takes one try at the invited name before the typed name is compared, in one statement, so a burst
 * of guesses gets no more tries than guesses typed one at a time. Undefined when the link is locked,
 * bound to a browser or out of tries.
 */
export async function takeNameTry(
  db: Tx,
  participantId: string,
  person: LinkPerson,
  maxTries: number,
): Promise<number | undefined> {
  // The person's first try creates their row with it (nothing can have locked or bound it yet).
  const row = await updateReturning(
    db,
    `insert into entry_persons (participant_id, person, name_failures) values (?, ?, 1)
    on conflict (participant_id, person) do update set name_failures = entry_persons.name_failures + 1
    where entry_persons.locked_at is null and entry_persons.bound_session is null and entry_persons.name_failures < ?
    returning name_failures`,
    [participantId, person, maxTries],
  );
  return row ? Number(row.name_failures) : undefined;
}

/** Locks the link after the last wrong name; a browser that bound it first keeps it. */
export async function lockEntry(db: Tx, participantId: string, person: LinkPerson, now = new Date()): Promise<boolean> {
  const n = await persons(db)
    .where(key(participantId, person))
    .whereNull('locked_at')
    .whereNull('bound_session')
    .update({ locked_at: iso(now) });
  return n === 1;
}

/** The columns that mark a person identified; a code they were sent has no more use. */
const identifiedColumns = (by: IdentifiedBy, now: Date) => ({
  identified_by: by,
  identified_at: iso(now),
  code_hash: null,
  code_expires_at: null,
});

/**
 * Binds the person to a browser's session; false when another browser got there first. `identifiedBy`
 * marks them identified in the same statement (a guest invited without identification: the name).
 */
export async function bind(
  db: Tx,
  participantId: string,
  person: LinkPerson,
  sessionHash: string,
  now = new Date(),
  identifiedBy?: IdentifiedBy,
): Promise<boolean> {
  // The right name's own try is not a wrong name: staff see only the wrong ones.
  const n = await persons(db)
    .where(key(participantId, person))
    .whereNull('bound_session')
    .whereNull('locked_at')
    .update({
      bound_session: sessionHash,
      bound_at: iso(now),
      name_failures: db.raw('case when name_failures > 0 then name_failures - 1 else 0 end'),
      ...(identifiedBy ? identifiedColumns(identifiedBy, now) : {}),
    });
  return n === 1;
}

export async function markIdentified(
  db: Tx,
  participantId: string,
  person: LinkPerson,
  by: IdentifiedBy,
  now = new Date(),
): Promise<void> {
  await ensurePerson(db, participantId, person);
  await persons(db).where(key(participantId, person)).update(identifiedColumns(by, now));
}

export async function recordIdentityMismatch(
  db: Tx,
  participantId: string,
  person: LinkPerson,
  now = new Date(),
): Promise<void> {
  await ensurePerson(db, participantId, person);
  await persons(db)
    .where(key(participantId, person))
    .update({ identity_mismatches: db.raw('identity_mismatches + 1'), identity_mismatch_at: iso(now) });
}

/**
 * Stores a new code if the person may have one now (fewer than `maxSends` sent, the last one at or
 * before `lastBefore`), in one statement: parallel asks send one code, not several.
 */
export async function storeCode(
  db: Tx,
  participantId: string,
  person: LinkPerson,
  codeHash: string,
  limits: { expiresAt: Date; maxSends: number; lastBefore: Date },
  now = new Date(),
): Promise<boolean> {
  await ensurePerson(db, participantId, person);
  const n = await persons(db)
    .where(key(participantId, person))
    .andWhere('codes_sent', '<', limits.maxSends)
    .andWhere((q) => q.whereNull('last_code_at').orWhere('last_code_at', '<=', iso(limits.lastBefore)))
    .update({
      code_hash: codeHash,
      code_expires_at: iso(limits.expiresAt),
      code_failures: 0,
      codes_sent: db.raw('codes_sent + 1'),
      last_code_at: iso(now),
    });
  return n === 1;
}

/**
 * Takes one try at the current code before the typed code is compared, in one statement: the code's
 * hash and the try's number, or undefined when there is no live code or its tries are used up.
 */
export async function takeCodeTry(
  db: Tx,
  participantId: string,
  person: LinkPerson,
  maxTries: number,
  now = new Date(),
): Promise<{ tryNumber: number; codeHash: string } | undefined> {
  const ts = timestampParam(db);
  const row = await updateReturning(
    db,
    `update entry_persons set code_failures = code_failures + 1
    where participant_id = ? and person = ? and code_hash is not null and code_expires_at > ${ts} and code_failures < ?
    returning code_failures, code_hash`,
    [participantId, person, iso(now), maxTries],
  );
  return row?.code_hash ? { tryNumber: Number(row.code_failures), codeHash: row.code_hash } : undefined;
}

/** A new link (a re-sent invitation) starts the way in afresh: new browser, new tries. */
export async function resetEntry(db: Tx, participantId: string): Promise<void> {
  await persons(db).where({ participant_id: participantId }).delete();
  await guestSessions(db).where({ participant_id: participantId }).delete();
}

export interface GuestSession {
  participantId: string;
  person: LinkPerson;
  meetingId: string;
  sessionHash: string;
}

export async function insertGuestSession(
  db: Tx,
  session: GuestSession & { expiresAt: Date },
  now = new Date(),
): Promise<void> {
  // Sessions of meetings long over go as new ones start: the table holds live ones only.
  await guestSessions(db).where('expires_at', '<=', iso(now)).delete();
  await guestSessions(db).insert({
    id: session.sessionHash,
    participant_id: session.participantId,
    person: session.person,
    meeting_id: session.meetingId,
    created_at: iso(now),
    expires_at: iso(session.expiresAt),
  });
}

/** A rescheduled meeting moves its guests' sessions with it, as it moves their links (links.ts). */
export async function moveSessionExpiry(db: Tx, meetingId: string, expiresAt: Date): Promise<void> {
  await guestSessions(db)
    .where({ meeting_id: meetingId })
    .update({ expires_at: iso(expiresAt) });
}

/** The live session with this hash, and its person's entry state, in one statement. */
export async function findGuestSession(
  db: Db,
  sessionHash: string,
  now = new Date(),
): Promise<(GuestSession & { state: EntryState }) | undefined> {
  const row = await db('guest_sessions as s')
    .leftJoin('entry_persons as e', joinState('s'))
    .where('s.id', sessionHash)
    .andWhere('s.expires_at', '>', iso(now))
    .first<(GuestSessionRow & JoinedState) | undefined>([
      's.id',
      's.participant_id',
      's.person',
      's.meeting_id',
      ...stateColumns,
    ]);
  return row
    ? {
        participantId: row.participant_id,
        person: row.person,
        meetingId: row.meeting_id,
        sessionHash: row.id,
        state: stateOrFresh(row, row.participant_id, row.person),
      }
    : undefined;
}
