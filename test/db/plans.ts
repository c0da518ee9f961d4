// Reads of tables that grow for as long as the appliance runs (the outbox, participants, guest
// sessions, the audit log) find their rows through an index, on both engines. SQLite plans without statistics
// (the appliance never runs ANALYZE: with STAT4, which better-sqlite3 builds in, a statement planned
// from statistics is prepared again whenever a bound value changes), so a column without an index,
// or a status beside the ids, can send it through the whole table: fast in every test, slow after
// a few years. Each case runs the product's own function, takes the statement it made, and reads
// its plan; PostgreSQL is asked with sequential scans switched off, so a plan there that still
// reads the table whole has no index to use.
import { randomBytes, randomUUID } from 'node:crypto';
import test from 'ava';
import type { Knex } from 'knex';
import { createDb, type Db } from '../../appliance/src/db/knex.ts';
import { meetingsLoggedBefore } from '../../appliance/src/connlog/store.ts';
import { findAccesses, findAudit } from '../../appliance/src/audit/store.ts';
import { insertGuestSession } from '../../appliance/src/entry/store.ts';
import {
  eraseContactsOfMessages,
  eraseMessageContacts,
  queueStats,
  recentMessages,
  withdrawPending,
} from '../../appliance/src/invites/outbox.ts';
import { findPatient } from '../../appliance/src/meetings/patients.ts';
import { deleteAnswersBefore, settleAnswers } from '../../appliance/src/evaluation/store.ts';
import { deleteResultsBefore } from '../../appliance/src/techtest/store.ts';
import {
  eraseContactsOfMeetingsEndedBefore,
  fillPatientRefs,
  forgetPatientRefs,
} from '../../appliance/src/meetings/store.ts';
import { everyDatabase } from '../helpers/databases.ts';
import { planOf } from '../helpers/plans.ts';

interface Case {
  what: string;
  /** Runs the product's function; a failure after its statement was made does not matter here. */
  run(db: Db): Promise<unknown>;
  /** The statement whose plan is read. */
  statement: RegExp;
  /** The index its plan must name (one of these: the engines name a primary key each their own way). */
  index: string[];
  /** What each of the plan's reads of the table (SQLite: each SEARCH line) must also keep to. */
  eachRead?: { line: RegExp; must: RegExp };
}

const cases: Case[] = [
  {
    what: 'a new guest session clears the expired ones',
    run: (db) =>
      insertGuestSession(db, {
        participantId: randomUUID(),
        person: 'main',
        meetingId: randomUUID(),
        sessionHash: randomBytes(32).toString('hex'),
        expiresAt: new Date(Date.now() + 3_600_000),
      }),
    statement: /^delete from "?`?guest_sessions/,
    index: ['guest_sessions_expires_at_index'],
  },
  {
    what: 'the outbox and status pages list the latest messages',
    run: (db) => recentMessages(db, 200),
    statement: /^select .* from .?outbox_messages.? order by/,
    index: ['outbox_messages_created_at_index'],
  },
  {
    what: "the log extract finds a patient's rows by their keyed number",
    run: (db) => findPatient(db, randomBytes(32), 'Sara Lind', '191212121212'),
    statement: /from .?participants.? where/,
    index: ['participants_patient_ref_index'],
  },
  {
    what: 'each start fills the keyed numbers of patients booked before them, reading only rows that hold a number',
    run: (db) => fillPatientRefs(db, randomBytes(32)),
    statement: /from .?participants.? where/,
    index: ['participants_personal_number_masked_index'],
  },
  {
    what: "retention erases the contact data of old meetings' messages",
    // A day's purge: many meetings at once (with a few, SQLite takes their index anyway).
    run: (db) =>
      eraseContactsOfMessages(
        db,
        Array.from({ length: 50 }, () => randomUUID()),
      ),
    statement: /^update .?outbox_messages/,
    index: ['outbox_messages_meeting_id_index'],
  },
  {
    what: 'retention finds the meetings of messages that still hold a recipient, not every message ever sent',
    run: (db) => eraseMessageContacts(db, () => Promise.resolve([])),
    statement: /^select .* from .?outbox_messages.? where/,
    index: ['outbox_messages_holding_recipient_index'],
  },
  {
    what: 'retention finds the participants that still hold contact data, not every meeting ever held',
    run: (db) => eraseContactsOfMeetingsEndedBefore(db, new Date()),
    statement: /^select .?meeting_id.? from .?participants.? where/,
    index: ['participants_holding_contacts_index'],
  },
  {
    what: "the audit log's purge finds the meetings whose patients' keyed numbers are still kept, not every meeting ever held",
    run: (db) => forgetPatientRefs(db, new Date()),
    statement: /^select .* from .?meetings.? where/,
    index: ['meetings_patient_refs_kept_index'],
  },
  {
    what: "a cancelled meeting's messages still waiting fail unsent, found by the meeting",
    run: (db) =>
      db.transaction((trx) => withdrawPending(trx, { meetingId: randomUUID() }, 'the meeting was cancelled')),
    statement: /^update .?outbox_messages/,
    index: ['outbox_messages_meeting_id_index'],
  },
  {
    what: 'retention finds the meetings that still have old connection-log entries, not every meeting held',
    run: (db) => meetingsLoggedBefore(db, new Date()),
    statement: /from .?connlog_entries.? where .?at.? </,
    index: ['connlog_entries_at_index'],
  },
  {
    what: "retention deletes the evaluation answers past their period by the meeting's day",
    run: (db) => deleteAnswersBefore(db, new Date()),
    statement: /^delete from .?evaluation_responses.?/,
    index: ['evaluation_responses_meeting_on_index'],
  },
  {
    what: "retention deletes the evaluation respondents past their period by the meeting's time",
    run: (db) => deleteAnswersBefore(db, new Date()),
    statement: /^delete from .?evaluation_respondents.?/,
    index: ['evaluation_respondents_meeting_at_index'],
  },
  {
    what: 'the nightly run reads only the answers given since the last, not two years of them',
    run: (db) => settleAnswers(db),
    statement: /^select .* from .?evaluation_responses.? where/,
    index: ['evaluation_responses_unsettled_index'],
  },
  {
    what: "retention deletes the tech test results past the connection log's period by when they were taken",
    run: (db) => deleteResultsBefore(db, new Date()),
    statement: /^delete from .?techtest_results.?/,
    index: ['techtest_results_tested_at_index'],
  },
  {
    what: "the audit viewer searched by action alone reads that action's newest records",
    run: (db) => findAudit(db, { action: 'audit.extract', limit: 200 }),
    statement: /^select .* from .?audit_log.? where/,
    index: ['audit_log_action_id_index'],
  },
  {
    what: 'the audit viewer searched by staff member reads their newest records, without sorting them all',
    run: (db) => findAudit(db, { staffId: randomUUID(), limit: 200 }),
    statement: /^select .* from .?audit_log.? where/,
    index: ['audit_log_staff_id_id_index'],
  },
  {
    what: "the log check of accesses to other units' meetings reads their marks, each record by its id",
    run: (db) => findAudit(db, { outsideUnit: true, limit: 200 }),
    statement: /from .?audit_outside_unit.?/,
    index: ['sqlite_autoindex_audit_outside_unit_1', 'audit_outside_unit_pkey'],
    eachRead: { line: /^(SEARCH|SCAN) audit_log/, must: /INTEGER PRIMARY KEY \(rowid=\?\)/ },
  },
  {
    what: "the status page counts the last day's failed messages",
    run: (db) => queueStats(db),
    statement: /failed_at/,
    index: ['outbox_messages_failed_at_index'],
  },
  {
    what: "the log extract's search finds the meetings' booking records, where it starts",
    run: (db) => findAccesses(db, { meetingIds: [randomUUID(), randomUUID()], participantIds: [randomUUID()] }),
    statement: /from .?audit_log.? where .?meeting_id.? = .* order by/,
    index: ['audit_log_meeting_id_index'],
  },
  {
    what: "the log extract's search of the audit log reads a slice of ids at a time",
    run: (db) => findAccesses(db, { meetingIds: [randomUUID()], participantIds: [randomUUID()] }),
    statement: /^select \* from .?audit_log.? where .?id.? > /,
    // SQLite may instead read the meeting's, the participant's and the listings' records each by
    // its index (MULTI-INDEX OR), each of them within the slice's ids.
    index: ['INTEGER PRIMARY KEY (rowid>? AND rowid<?)', 'Index Scan using audit_log_pkey', 'MULTI-INDEX OR'],
    eachRead: { line: /^(SEARCH|SCAN) audit_log/, must: /\b(rowid|id)>\? AND (rowid|id)<\?\)/ },
  },
];

for (const database of await everyDatabase()) {
  const db = createDb(database.url);
  test.before(() => db.migrate.latest());
  test.after.always(async () => {
    await db.destroy();
    await database.drop();
  });
  for (const c of cases)
    test.serial(`${c.what}: through ${c.index.join(' or ')} (${database.kind})`, async (t) => {
      const made: { sql: string; bindings: Knex.RawBinding[] }[] = [];
      const keep = (q: { sql: string; bindings?: Knex.RawBinding[] }) => {
        if (c.statement.test(q.sql)) made.push({ sql: q.sql, bindings: q.bindings ?? [] });
      };
      db.on('query', keep);
      await c.run(db).catch(() => undefined);
      db.off('query', keep);
      const [first] = made;
      if (!first) return t.fail(`no statement like ${String(c.statement)}`);
      const plan = await planOf(db, first.sql, first.bindings);
      t.true(
        c.index.some((name) => plan.includes(name)),
        `${first.sql}\n=> ${plan}`,
      );
      const { eachRead } = c;
      if (eachRead)
        for (const line of plan.split('\n').filter((l) => eachRead.line.test(l)))
          t.regex(line, eachRead.must, `${first.sql}\n=> ${plan}`);
    });
}
