// Several appliance processes starting at the same moment on one empty PostgreSQL: the migrations
// and the first admin are made once, every process starts; and a process killed while it holds the
// migration lock never leaves the database in a state where no process can start.
// PostgreSQL only (SQLite is one process): runs when TEST_DATABASE_URL names a server.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import type { Knex } from 'knex';
import { createDb } from '../../appliance/src/db/knex.ts';
import { migrationSource } from '../../appliance/src/db/migrations.ts';
import { startAppliance, sharedSecrets, type ApplianceProcess } from '../helpers/appliance.ts';
import { countRows, postgresDatabase } from '../helpers/databases.ts';
import { until } from '../helpers/wait.ts';

const enabled = Boolean(process.env.TEST_DATABASE_URL) && process.env.TEST_DB !== 'sqlite';
const pgTest = enabled ? test.serial : test.skip;

const root = fileURLToPath(new URL('../..', import.meta.url));
const migrationCount = async () => (await migrationSource.getMigrations([])).length;

/**
 * Another process in the middle of a start: a session that holds the appliance's start lock (and
 * runs `statements` in it, e.g. to take knex's lock row too) until it is killed with SIGKILL.
 */
async function holdStartLock(url: string, statements: string[] = []) {
  const holder = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `
        import pg from 'pg';
        const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
        await client.connect();
        await client.query("select pg_advisory_lock(x'53564b41'::int, 1)");
        for (const statement of ${JSON.stringify(statements)}) await client.query(statement);
        console.log('holding');
        setInterval(() => {}, 1000);
      `,
    ],
    { cwd: root, env: { ...process.env, DATABASE_URL: url }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const died = new Promise((resolve) => holder.on('exit', resolve));
  let said = '';
  holder.stdout.on('data', (c) => (said += c));
  await until('the holder to take the locks', () => said.includes('holding'));
  return {
    /** The holder dies without a word: PostgreSQL ends its session, and with it the advisory lock. */
    async kill() {
      holder.kill('SIGKILL');
      await died;
    },
  };
}

/** Resolves once a process waits for the start lock that another session holds. */
const waitingForStartLock = (observer: Knex) =>
  until('the starting process to wait for the start lock', async () => {
    const { rows } = await observer.raw(
      "select 1 from pg_locks where locktype = 'advisory' and objid = 1 and not granted",
    );
    return rows.length > 0;
  });

for (const round of [1, 2, 3]) {
  pgTest(
    `three processes started at once on an empty database all run, with one admin and one migration history (round ${round})`,
    async (t) => {
      const database = (await postgresDatabase())!;
      const env = { DATABASE_URL: database.url, ...sharedSecrets() };
      const processes: ApplianceProcess[] = [1, 2, 3].map(() => startAppliance(env));
      try {
        await Promise.all(processes.map((p) => p.running()));
        const db = createDb(database.url);
        try {
          t.deepEqual(
            (await db('staff').select('email')).map((r) => r.email),
            ['admin@samverka.local'],
          );
          t.is(await countRows(db('knex_migrations')), await migrationCount());
          t.deepEqual(await db('knex_migrations_lock').select('is_locked'), [{ is_locked: 0 }]);
        } finally {
          await db.destroy();
        }
      } finally {
        for (const p of processes) t.is(await p.stop(), 0, `pid ${p.child.pid} stops cleanly`);
        await database.drop();
      }
      // Read once every process has ended: the line comes after the one running() waits for.
      const firstAdmin = processes.filter((p) => /created the admin account admin@samverka\.local/.test(p.out()));
      t.is(firstAdmin.length, 1, 'exactly one process created the first admin');
    },
  );
}

pgTest('a process killed while it holds the migration lock leaves a database the next process starts on', async (t) => {
  const database = (await postgresDatabase())!;
  const env = { DATABASE_URL: database.url, ...sharedSecrets() };
  // An installation one upgrade behind: every migration but the last applied.
  const db = createDb(database.url);
  await db.migrate.latest();
  await db.migrate.down();
  await db.destroy();

  // A process in the middle of that upgrade: it holds the start lock and knex's lock row, as the
  // appliance does while migrating - and racing starts of an older version could even leave the
  // lock row doubled. It is then killed with SIGKILL.
  const holder = await holdStartLock(database.url, [
    'update knex_migrations_lock set is_locked = 1',
    'insert into knex_migrations_lock (is_locked) values (0)',
  ]);

  const waiting = startAppliance(env);
  const observer = createDb(database.url);
  try {
    // The new process waits for the lock rather than failing or migrating beside the holder.
    await waitingForStartLock(observer);
    t.is(waiting.child.exitCode, null);

    await holder.kill();

    await waiting.running();
    t.is(await countRows(observer('knex_migrations')), await migrationCount(), 'the pending migration was applied');
    t.deepEqual(await observer('knex_migrations_lock').select('is_locked'), [{ is_locked: 0 }]);

    // And a later start on its own finds nothing to clear.
    t.is(await waiting.stop(), 0);
    const alone = startAppliance(env);
    await alone.running();
    t.is(await alone.stop(), 0);
  } finally {
    await holder.kill();
    await waiting.kill();
    await observer.destroy();
    await database.drop();
  }
});

pgTest('an appliance killed by SIGKILL in the middle of its start can be started again', async (t) => {
  const database = (await postgresDatabase())!;
  const env = { DATABASE_URL: database.url, ...sharedSecrets() };
  const observer = createDb(database.url);
  try {
    const first = startAppliance(env);
    // Killed once it has begun on the database (the migration table exists), whatever it was doing.
    await until(
      'the first process to begin migrating',
      async () => (await observer.raw("select to_regclass('knex_migrations_lock') as t")).rows[0].t !== null,
      60_000,
    );
    await first.kill();
    const second = startAppliance(env);
    await second.running();
    t.is(await second.stop(), 0);
  } finally {
    await observer.destroy();
    await database.drop();
  }
});

// systemd or docker may stop a process at any moment of its start, here while it waits for another
// process's migrations: it finishes what it began and exits 0, rather than dying by the signal.
pgTest('a process asked to stop while it waits for the start lock stops cleanly once it is free', async (t) => {
  const database = (await postgresDatabase())!;
  const env = { DATABASE_URL: database.url, ...sharedSecrets() };
  const holder = await holdStartLock(database.url);
  const waiting = startAppliance(env);
  const observer = createDb(database.url);
  try {
    await waitingForStartLock(observer);
    waiting.child.kill('SIGTERM');
    await holder.kill();
    t.is(await waiting.stop(), 0, 'the process stops cleanly');
    t.notRegex(waiting.out(), /listening on/, 'it never began to serve');
    t.deepEqual(await observer('knex_migrations_lock').select('is_locked'), [{ is_locked: 0 }]);

    // And the next start finds the migrations done and nothing held.
    const next = startAppliance(env);
    await next.running();
    t.is(await countRows(observer('knex_migrations')), await migrationCount());
    t.is(await next.stop(), 0);
  } finally {
    await holder.kill();
    await waiting.kill();
    await observer.destroy();
    await database.drop();
  }
});
