// Several appliance processes starting at the same moment on one empty PostgreSQL: the migrations
// and the first admin are made once, every process starts; and a process killed while it holds the
// migration lock never leaves the database in a state where no process can start.
// PostgreSQL only (SQLite is one process): runs when TEST_DATABASE_URL names a server.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { createDb } from '../../appliance/src/db/knex.ts';
import { migrationSource } from '../../appliance/src/db/migrations.ts';
import { startAppliance, sharedSecrets, type ApplianceProcess } from '../helpers/appliance.ts';
import { countRows, postgresDatabase } from '../helpers/databases.ts';
import { until } from '../helpers/wait.ts';

const enabled = Boolean(process.env.TEST_DATABASE_URL) && process.env.TEST_DB !== 'sqlite';
const pgTest = enabled ? test.serial : test.skip;

const root = fileURLToPath(new URL('../..', import.meta.url));
const migrationCount = async () => (await migrationSource.getMigrations([])).length;

for (const round of [1, 2, 3]) {
  pgTest(
    `three processes started at once on an empty database all run, with one admin and one migration history (round ${round})`,
    async (t) => {
      const database = (await postgresDatabase())!;
      const env = { DATABASE_URL: database.url, ...sharedSecrets() };
      const processes: ApplianceProcess[] = [1, 2, 3].map(() => startAppliance(env));
      try {
        await Promise.all(processes.map((p) => p.running()));
        const firstAdmin = processes.filter((p) => /created the admin account admin@samverka\.local/.test(p.out()));
        t.is(firstAdmin.length, 1, 'exactly one process created the first admin');
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
    await client.query('update knex_migrations_lock set is_locked = 1');
    await client.query('insert into knex_migrations_lock (is_locked) values (0)');
    console.log('holding');
    setInterval(() => {}, 1000);
  `,
    ],
    { cwd: root, env: { ...process.env, DATABASE_URL: database.url }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const holderDied = new Promise((resolve) => holder.on('exit', resolve));
  let said = '';
  holder.stdout.on('data', (c) => (said += c));
  await until('the holder to take the locks', () => said.includes('holding'));

  const waiting = startAppliance(env);
  const observer = createDb(database.url);
  try {
    // The new process waits for the lock rather than failing or migrating beside the holder.
    await until('the starting process to wait for the start lock', async () => {
      const { rows } = await observer.raw(
        "select 1 from pg_locks where locktype = 'advisory' and objid = 1 and not granted",
      );
      return rows.length > 0;
    });
    t.is(waiting.child.exitCode, null);

    // The holder dies without a word: PostgreSQL ends its session, and with it the advisory lock.
    holder.kill('SIGKILL');
    await holderDied;

    await waiting.running();
    t.is(await countRows(observer('knex_migrations')), await migrationCount(), 'the pending migration was applied');
    t.deepEqual(await observer('knex_migrations_lock').select('is_locked'), [{ is_locked: 0 }]);

    // And a later start on its own finds nothing to clear.
    t.is(await waiting.stop(), 0);
    const alone = startAppliance(env);
    await alone.running();
    t.is(await alone.stop(), 0);
  } finally {
    holder.kill('SIGKILL');
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
