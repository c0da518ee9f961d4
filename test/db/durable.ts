// SQLite's commits are made durable off the event loop (appliance/src/db/sqlite-client.ts): the
// connection runs with synchronous=NORMAL and the dialect fdatasyncs the write-ahead log itself
// before a write or a COMMIT resolves; the group commit's batch frees the connection at once and
// answers its callers once the log is synced. What reaches the disk is watched at the file system's
// door: FileHandle.prototype.datasync, which the dialect calls, is replaced for the test by one that
// records which file it was asked to sync and holds it until the test lets it go. SQLite only
// (PostgreSQL flushes its own WAL): run in the SQLite pass.
import { readlinkSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import test from 'ava';
import type { Knex } from 'knex';
import { GroupCommit } from '../../appliance/src/db/group-commit.ts';
import { clientOf, createDb, type Db } from '../../appliance/src/db/knex.ts';
import { shareCommits, walSyncOf } from '../../appliance/src/db/sqlite-client.ts';
import { passEngine, sqliteDatabase, withDatabase } from '../helpers/databases.ts';
import { startServer } from '../helpers/server.ts';

/** A sync asked for: of which file, and the hand that lets it end (or fail). */
interface HeldSync {
  path: string;
  release(): void;
  fail(error: Error): void;
}

/**
 * Replaces FileHandle's datasync for the duration of `run`: each call is held until released, and
 * the test can wait for the next one to be asked for.
 */
async function holdingSyncs<T>(
  run: (syncs: { next(): Promise<HeldSync>; asked: HeldSync[] }) => Promise<T>,
): Promise<T> {
  const probe = await open(new URL(import.meta.url), 'r');
  const prototype = Object.getPrototypeOf(probe) as { datasync: (this: FileHandle) => Promise<void> };
  await probe.close();
  const original = prototype.datasync;
  const asked: HeldSync[] = [];
  let waiting: ((sync: HeldSync) => void) | undefined;
  prototype.datasync = function (this: FileHandle) {
    const path = readlinkSync(`/proc/self/fd/${this.fd}`);
    return new Promise<void>((resolve, reject) => {
      const sync: HeldSync = {
        path,
        release: () => void original.call(this).then(resolve, reject),
        fail: reject,
      };
      asked.push(sync);
      waiting?.(sync);
      waiting = undefined;
    });
  };
  let seen = 0;
  try {
    return await run({
      asked,
      next: () => {
        if (asked.length > seen) return Promise.resolve(asked[seen++]!);
        return new Promise<HeldSync>((resolve) => {
          waiting = (sync) => {
            seen += 1;
            resolve(sync);
          };
        });
      },
    });
  } finally {
    prototype.datasync = original;
    for (const sync of asked) sync.release();
  }
}

/** Whether a promise has settled by now (after the turns already queued have run). */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

/** In the SQLite pass (and when this file runs on its own). */
const sqliteTest = passEngine() === 'sqlite' ? test.serial : test.skip;

async function notesTable(db: Db): Promise<void> {
  await db.schema.createTable('notes', (table) => {
    table.string('text').notNullable();
  });
}

/** A database with a notes table whose transactions share commits through a group commit, syncs held. */
async function sharingCommits(
  run: (db: Db, group: GroupCommit, syncs: Parameters<Parameters<typeof holdingSyncs>[0]>[0]) => Promise<void>,
): Promise<void> {
  await withDatabase(sqliteDatabase(), async (db) => {
    await notesTable(db);
    const group = new GroupCommit(db);
    shareCommits(clientOf(db), group);
    await holdingSyncs((syncs) => run(db, group, syncs));
  });
}

sqliteTest('the database runs in WAL mode with synchronous=NORMAL, its log synced by the dialect', async (t) => {
  await withDatabase(sqliteDatabase(), async (db) => {
    const pragma = async (name: string) => Object.values((await db.raw(`pragma ${name}`))[0])[0];
    t.is(await pragma('journal_mode'), 'wal');
    t.is(await pragma('synchronous'), 1); // NORMAL: the COMMIT itself does not fsync
    const client = clientOf(db);
    const connection = (await client.acquireConnection()) as object;
    try {
      t.truthy(walSyncOf(connection), 'the connection has its log sync');
    } finally {
      await client.releaseConnection(connection);
    }
  });
});

sqliteTest(
  'a write outside a transaction, and a COMMIT, resolve only once the write-ahead log is synced',
  async (t) => {
    const database = sqliteDatabase();
    await withDatabase(database, async (db) => {
      await notesTable(db);
      await holdingSyncs(async (syncs) => {
        const insert = db('notes')
          .insert({ text: 'alone' })
          .then(() => 'written');
        const sync = await syncs.next();
        t.true(sync.path.endsWith('/test.db-wal'), `the log is what is synced (${sync.path})`);
        t.false(await settled(insert), 'the insert waits for the sync');
        sync.release();
        t.is(await insert, 'written');

        // A write that also reads (RETURNING, as the outbox's claim) is a write.
        const returning = db('notes')
          .insert({ text: 'returned' })
          .returning('text')
          .then((rows) => rows);
        const returningSync = await syncs.next();
        t.false(await settled(returning), 'an insert … returning waits for the sync');
        returningSync.release();
        t.deepEqual(await returning, [{ text: 'returned' }]);

        const transaction = db.transaction(async (trx) => {
          await trx('notes').insert({ text: 'first' });
          await trx('notes').insert({ text: 'second' });
        });
        const commitSync = await syncs.next();
        t.false(await settled(transaction), 'the COMMIT waits for the sync');
        commitSync.release();
        await transaction;
        t.deepEqual((await db('notes').pluck('text')).sort(), ['alone', 'first', 'returned', 'second']);
        t.is(syncs.asked.length, 3, 'reads are not synced, and a transaction is synced once, at its COMMIT');
      });
    });
  },
);

sqliteTest('the group commit frees the connection while its batch syncs, and answers the batch only once synced', (t) =>
  sharingCommits(async (db, group, syncs) => {
    const first = group.write((trx: Knex.Transaction) => trx('notes').insert({ text: 'first' }));
    const firstSync = await syncs.next();
    t.false(await settled(first), 'the first batch is not answered before its sync');

    // While the disk syncs the first batch, the connection writes the next: a change of its own
    // (db.transaction, handed to the group commit) commits, and waits for a sync that begins
    // after the one under way (which may not cover it).
    const second = db.transaction((trx) => trx('notes').insert({ text: 'second' }));
    let written: string[] = [];
    while (written.length < 2) {
      await new Promise((resolve) => setImmediate(resolve)); // the group commit starts its batch
      written = (await db('notes').pluck('text')).sort();
    }
    t.deepEqual(written, ['first', 'second'], 'both are written while the first sync is held');
    t.false(await settled(second), 'the second is not answered before a sync');
    t.is(syncs.asked.length, 1, 'one sync at a time');

    firstSync.release();
    await first;
    const secondSync = await syncs.next();
    t.false(await settled(second), 'the second waits for the sync after the first');
    secondSync.release();
    await second;
    t.is(group.stats.commits, 2);
    await group.settled();
  }),
);

sqliteTest('a sync that fails fails every caller waiting for it, and every write after it', (t) =>
  sharingCommits(async (db, group, syncs) => {
    const writes = [
      group.write((trx) => trx('notes').insert({ text: 'a' })),
      db.transaction((trx) => trx('notes').insert({ text: 'b' })),
    ];
    const sync = await syncs.next();
    sync.fail(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
    const results = await Promise.allSettled(writes);
    t.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected'],
      'nobody is answered as saved',
    );
    t.regex(String((results[0] as PromiseRejectedResult).reason), /could not be synced to disk.*restart the appliance/);
    t.is(group.stats.failures, 1);

    // The kernel may report the next fsync as a success although it dropped what it could not
    // write: nothing is called durable any more until the appliance starts again.
    const later = await Promise.allSettled([
      group.write((trx) => trx('notes').insert({ text: 'c' })),
      db('notes').insert({ text: 'd' }),
    ]);
    t.deepEqual(
      later.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    t.is(syncs.asked.length, 1, 'no sync is asked of the disk again');
  }),
);

sqliteTest('a database opened again finds every write that was answered', async (t) => {
  const database = sqliteDatabase();
  let db = createDb(database.url);
  try {
    await notesTable(db);
    const group = new GroupCommit(db);
    shareCommits(clientOf(db), group);
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => db.transaction((trx) => trx('notes').insert({ text: `n${i}` }))),
    );
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => group.write((trx) => trx('notes').insert({ text: `g${i}` }))),
    );
    await group.settled();
    await db.destroy();
    db = createDb(database.url);
    t.is((await db('notes').pluck('text')).length, 100);
  } finally {
    await db.destroy();
    await database.drop();
  }
});

sqliteTest('after a failed sync the appliance answers not ready, saying why, and refuses writes', async (t) => {
  const app = await startServer({ database: sqliteDatabase() });
  try {
    const client = app.client();
    t.is((await client.get('/health/ready')).status, 200);
    await holdingSyncs(async (syncs) => {
      const write = Promise.resolve(app.server.app.db.raw('create table probe (a integer)')); // started now
      (await syncs.next()).fail(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
      await t.throwsAsync(write, { message: /could not be synced to disk/ });
    });
    const ready = await client.get('/health/ready');
    t.is(ready.status, 503);
    t.regex(ready.text, /could not be synced to disk.*restart the appliance/);
  } finally {
    await app.stop();
  }
});
