// One durable commit per action (ARCHITECTURE.md, the data path): a booking and everything it
// causes commit together; the records that follow reads are group-committed - concurrent requests
// share one transaction, a request is answered only once its rows are durable (also when the
// process is killed right after the answer), and a batch that fails fails every request in it.
// Runs on this pass's engine (TEST_DB).
import { randomBytes } from 'node:crypto';
import test from 'ava';
import type { Knex } from 'knex';
import { countAttempt } from '../../appliance/src/db/counters.ts';
import { GroupCommit } from '../../appliance/src/db/group-commit.ts';
import { clientOf, createDb, isSqlite, type Db } from '../../appliance/src/db/knex.ts';
import { shareCommits } from '../../appliance/src/db/sqlite-client.ts';
import { afterCommit } from '../../appliance/src/events.ts';
import { addStaff, addUnit } from '../../appliance/src/staff/service.ts';
import { startAppliance, sharedSecrets } from '../helpers/appliance.ts';
import { watchCommits } from '../helpers/commits.ts';
import { countRows, sqliteDatabase, testDatabase, withDatabase } from '../helpers/databases.ts';
import { present } from '../helpers/present.ts';
import { Client, startServer, testPassword } from '../helpers/server.ts';
import { booking, inDays, loggedIn } from '../meetings/_booking.ts';

/** Makes the database refuse audit records of one meeting, as a full disk or a broken constraint would. */
async function refuseAuditOf(db: Db, meetingId: string): Promise<void> {
  if (isSqlite(db)) {
    await db.raw(`create trigger refuse_audit before insert on audit_log when new.meeting_id = '${meetingId}'
      begin select raise(abort, 'refused by the test'); end`);
    return;
  }
  await db.raw(`create function refuse_audit() returns trigger language plpgsql as $$
    begin if new.meeting_id = '${meetingId}' then raise exception 'refused by the test'; end if; return new; end $$`);
  await db.raw('create trigger refuse_audit before insert on audit_log for each row execute function refuse_audit()');
}

test('a booking, its outbox rows, meeting events, connection log and audit record are one commit', async (t) => {
  const app = await startServer();
  try {
    const { client } = await loggedIn(app);
    const watch = watchCommits(app.server.app.db);
    const reply = await client.request('POST', '/api/v1/meetings', { json: booking() });
    watch.stop();
    t.is(reply.status, 201, reply.text);
    const meetingId = reply.json<{ id: string }>().id;
    const own = watch.commits.filter(({ tables }) => tables.has('meetings') || tables.has('audit_log'));
    t.is(own.length, 1, 'the booking writes in one transaction');
    t.deepEqual(
      [...present(own[0], 'the commit of the booking').tables].filter((table) => !table.startsWith('attempt_')).sort(),
      [
        'audit_log',
        'audit_outside_unit', // asked, in the same transaction, whether the booker is outside the unit
        'connlog_entries',
        'meeting_events',
        'meetings',
        'outbox_messages',
        'participant_links',
        'participants',
        'rooms',
      ],
    );
    const { db } = app.server.app;
    t.is(await countRows(db('audit_log').where({ meeting_id: meetingId, action: 'meeting.book' })), 1);
    const types = await db('connlog_entries').where({ meeting_id: meetingId }).pluck('type');
    t.true(types.includes('meeting_booked'));
    t.is(types.filter((type) => type === 'message_queued').length, 3, 'one per invitation queued');
    t.log(`commits while booking (the dispatcher's included): ${watch.commits.length}`);
  } finally {
    await app.stop();
  }
});

test('many concurrent reads share commits for their audit records, and each is recorded', async (t) => {
  const app = await startServer();
  try {
    const { client } = await loggedIn(app);
    const booked = await client.request('POST', '/api/v1/meetings', { json: booking() });
    const meetingId = booked.json<{ id: string }>().id;
    const { db } = app.server.app;
    const reads = 40;
    // Connections opened first (as a busy clinic's browsers hold theirs): the reads then arrive together.
    await Promise.all(Array.from({ length: reads }, () => client.get('/api/v1/me')));
    const watch = watchCommits(db);
    const replies = await Promise.all(Array.from({ length: reads }, () => client.get(`/api/v1/meetings/${meetingId}`)));
    watch.stop();
    t.true(replies.every((r) => r.status === 200));
    const auditCommits = watch.commits.filter(({ tables }) => tables.has('audit_log'));
    const recorded = await countRows(db('audit_log').where({ meeting_id: meetingId, action: 'meeting.read' }));
    t.is(recorded, reads, 'every read is recorded');
    t.true(auditCommits.length < reads, `${reads} reads, ${auditCommits.length} commits`);
    t.log(`${reads} concurrent reads: ${auditCommits.length} commits of their audit records`);
  } finally {
    await app.stop();
  }
});

test('writes queued together commit together; a failing write fails every caller of its batch; a write hands back what it read', async (t) => {
  await withDatabase(testDatabase(), async (db) => {
    await db.schema.createTable('notes', (table) => {
      table.string('text').notNullable();
    });
    const group = new GroupCommit(db);
    const write = (text: string | null) => (trx: Knex.Transaction) => trx('notes').insert({ text });
    await Promise.all(Array.from({ length: 100 }, (_, i) => group.write(write(`note ${i}`))));
    t.is(group.stats.commits, 1, 'one transaction for a hundred writes queued at once');
    t.is(group.stats.writes, 100);

    // One write breaks a constraint: none of its batch is saved, and every caller is told.
    const results = await Promise.allSettled([
      group.write(write('before')),
      group.write(write(null)),
      group.write(write('after')),
    ]);
    t.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected', 'rejected'],
    );
    t.is(group.stats.failures, 1);
    t.deepEqual(await db('notes').whereIn('text', ['before', 'after']).pluck('text'), []);

    // The next batch is on its own again.
    await group.write(write('later'));
    t.deepEqual(await db('notes').where({ text: 'later' }).pluck('text'), ['later']);

    // A write hands back what it read in the transaction: a burst of attempts at one limit, counted
    // in shared batches, still numbers 1…n.
    await db.migrate.latest();
    const now = new Date();
    const attempts = await Promise.all(
      Array.from({ length: 30 }, () => group.write((trx) => countAttempt(trx, 'login:192.0.2.9', 900, now))),
    );
    t.deepEqual(
      attempts.map((a) => a.hits).sort((a, b) => a - b),
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
  });
});

test('changes share a commit, each in a savepoint of its own: one that fails rolls back alone, and its events are never heard', async (t) => {
  await withDatabase(testDatabase(), async (db) => {
    await db.schema.createTable('notes', (table) => {
      table.string('text').notNullable();
    });
    const group = new GroupCommit(db);
    const heard: string[] = [];
    const change = (texts: (string | null)[]) => async (trx: Knex.Transaction) => {
      for (const text of texts) await trx('notes').insert({ text });
      // What the bus does for an event emitted inside the change: heard once the change has committed,
      // which is once the shared transaction around its savepoint has.
      afterCommit(trx, () =>
        heard.push(`${texts.join('+')}${trx.parentTransaction?.isCompleted() ? '' : ' too early'}`),
      );
      return texts.length;
    };
    const results = await Promise.allSettled([
      group.change(change(['a1', 'a2'])),
      group.change(change(['b1', null])),
      group.change(change(['c1'])),
      group.write((trx) => trx('notes').insert({ text: 'record' })),
    ]);
    t.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
      'only the change that broke a constraint is refused',
    );
    t.deepEqual(
      results.map((r) => (r.status === 'fulfilled' ? r.value : undefined)).slice(0, 3),
      [2, undefined, 1],
      'each change hands back what it returned',
    );
    t.is(group.stats.commits, 1, 'three changes and a record queued together: one commit');
    t.deepEqual((await db('notes').orderBy('text').pluck('text')).sort(), ['a1', 'a2', 'c1', 'record']);
    t.deepEqual(heard.sort(), ['a1+a2', 'c1'], 'the refused change was never heard, the others once committed');
  });
});

// The other tests count commits with watchCommits; it must follow the statements, not knex's tags.
test('commits are counted by their statements: a savepoint is its own, the transaction around it keeps what follows it, one begun before the watch is not counted', async (t) => {
  await withDatabase(testDatabase(), async (db) => {
    for (const name of ['before', 'outer', 'inner', 'after'])
      await db.schema.createTable(name, (table) => {
        table.string('text');
      });
    let begun!: () => void;
    let carryOn!: () => void;
    const started = new Promise<void>((resolve) => (begun = resolve));
    const gate = new Promise<void>((resolve) => (carryOn = resolve));
    // Another's transaction, begun before the watch and committed while it runs (the outbox's batch).
    const earlier = db.transaction(async (trx) => {
      await trx('before').insert({ text: 'begun' });
      begun();
      await gate;
      await trx('before').insert({ text: 'ended' });
    });
    await started;
    // On SQLite the earlier transaction holds the one connection: the watched one waits for it.
    const watch = watchCommits(db);
    const watched = db.transaction(async (trx) => {
      await trx('outer').insert({ text: 'first' });
      await trx.transaction((inner) => inner('inner').insert({ text: 'saved' }));
      await trx
        .transaction((inner) =>
          inner('inner')
            .insert({ text: 'undone' })
            .then(() => Promise.reject(new Error('no'))),
        )
        .catch(() => undefined);
      await trx('after').insert({ text: 'last' });
    });
    carryOn();
    await Promise.all([earlier, watched]);
    watch.stop();
    t.deepEqual(
      watch.commits.map((c) => [...c.tables].sort()),
      [['inner'], ['after', 'outer']],
      'the released savepoint, then the transaction around it; the rolled back savepoint and the earlier transaction are not',
    );
  });
});

test('on SQLite the running appliance hands every transaction to the group commit', async (t) => {
  await withDatabase(sqliteDatabase(), async (db) => {
    await db.schema.createTable('notes', (table) => {
      table.string('text').notNullable();
    });
    const group = new GroupCommit(db);
    shareCommits(clientOf(db), group);
    const insert = (text: string | null) => db.transaction(async (trx) => (await trx('notes').insert({ text }), text));
    const results = await Promise.allSettled([insert('one'), insert(null), insert('two'), insert('three')]);
    t.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
    );
    t.is(group.stats.commits, 1, 'four transactions begun together commit once');
    t.deepEqual(await db('notes').orderBy('text').pluck('text'), ['one', 'three', 'two']);
  });
});

test('a change that ends the shared transaction fails its whole batch: no change is then committed alone', async (t) => {
  await withDatabase(sqliteDatabase(), async (db) => {
    await db.schema.createTable('notes', (table) => {
      table.string('text').notNullable();
    });
    const group = new GroupCommit(db);
    const results = await Promise.allSettled([
      group.change((trx) => trx('notes').insert({ text: 'before' })),
      // As SQLite does by itself on a full disk or an I/O error: the whole transaction is gone.
      group.change(async (trx) => {
        await trx.raw('rollback');
        throw new Error('the disk is full');
      }),
      group.change((trx) => trx('notes').insert({ text: 'after' })),
    ]);
    t.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected', 'rejected'],
    );
    t.is(group.stats.failures, 1);
    t.deepEqual(await db('notes').pluck('text'), [], 'neither the change before nor the one after was saved');
  });
});

test('a read whose audit record cannot be written is not answered as if recorded, nor is any read beside it', async (t) => {
  const app = await startServer();
  try {
    const { client } = await loggedIn(app);
    const ids: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      const reply = await client.request('POST', '/api/v1/meetings', { json: booking({ startsAt: inDays(2, 8 + i) }) });
      ids.push(reply.json<{ id: string }>().id);
    }
    const { db } = app.server.app;
    await refuseAuditOf(db, present(ids[2], 'the third meeting'));
    const replies = await Promise.all(ids.map((id) => client.get(`/api/v1/meetings/${id}`)));
    t.is(present(replies[2], 'the third read').status, 500, 'the read whose record failed');
    // Each read answered 200 has its record; each read in the failed batch answered an error.
    const answered = ids.filter((_, i) => replies[i]?.status === 200);
    const recorded = await db('audit_log')
      .where({ action: 'meeting.read' })
      .whereIn('meeting_id', ids)
      .pluck('meeting_id');
    t.deepEqual([...recorded].sort(), [...answered].sort());
    t.true(replies.every((r) => r.status === 200 || r.status === 500));
  } finally {
    await app.stop();
  }
});

test('a read answered before the process is killed has its audit record on disk', async (t) => {
  const database = await testDatabase();
  const run = startAppliance({ DATABASE_URL: database.url, ...sharedSecrets(), REMINDER_OFFSETS: 'none' });
  let db: Db | undefined;
  try {
    const port = await run.running();
    db = createDb(database.url);
    await addUnit(db, { name: 'Barn- och ungdomsmedicin', phone: '010-123 45 67' });
    const email = `anna.${randomBytes(3).toString('hex')}@region.example`;
    await addStaff(db, {
      email,
      name: 'Anna Lind',
      role: 'clinician',
      unit: 'Barn- och ungdomsmedicin',
      password: testPassword,
    });
    const clinician = new Client(`http://127.0.0.1:${port}`);
    t.is((await clinician.login(email, testPassword)).status, 302);

    // Each listing names its own day, so its audit record can be told from the others'.
    const days = Array.from({ length: 30 }, (_, i) => inDays(i + 1).slice(0, 10));
    const answered: string[] = [];
    let killed: Promise<void> | undefined;
    await Promise.allSettled(
      days.map(async (day) => {
        const reply = await clinician.get(`/api/v1/meetings?from=${day}T00:00:00Z&to=${day}T23:59:59Z`);
        if (reply.status !== 200) return;
        answered.push(day);
        // The first answer kills the process: whatever else was in flight dies with it.
        killed ??= run.kill();
      }),
    );
    await killed;
    await run.exited;
    t.true(answered.length > 0);
    await db.destroy();
    db = createDb(database.url);
    const details = await db('audit_log').where({ action: 'meeting.list' }).pluck('details');
    const recorded = new Set(details.map((d: string) => (JSON.parse(d) as { from: string }).from.slice(0, 10)));
    for (const day of answered) t.true(recorded.has(day), `the listing of ${day} was answered, so it is recorded`);
    t.log(`${answered.length} of ${days.length} answered before the kill; ${recorded.size} recorded`);
  } finally {
    await run.kill();
    await db?.destroy();
    await database.drop();
  }
});
