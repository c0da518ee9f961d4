// Backup and restore as INSTALL.md has hospital IT paste them, run here without an engine:
// `samverka backup` takes SQLite's online backup while the appliance runs and writes outside the
// data folder (the bundle's /backups, a folder on the host); `samverka restore` puts it into a fresh
// data folder. The restored appliance, with the same DATA_KEY, has the same meetings and reads the
// encrypted personal identity numbers; with another key it cannot. PostgreSQL's pg_dump/pg_restore
// lines run against the machine's PostgreSQL when TEST_DATABASE_URL is set.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { decrypt } from '../../appliance/src/crypto.ts';
import { createDb } from '../../appliance/src/db/knex.ts';
import { passEngine, postgresDatabase, type TestDatabase } from '../helpers/databases.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { booking, loggedIn } from '../meetings/_booking.ts';
import { cleanEnv, root, run, tempDir } from './_bundle.ts';

const patient = {
  kind: 'patient',
  name: 'Tolvan Tolvansson',
  mobile: '0701234567',
  identification: 'bankid',
  personalNumber: '19121212-1212',
};
const samverka = (env: Record<string, string>, ...args: string[]) =>
  run('node', [join(root, 'bin/samverka.js'), ...args], { env: cleanEnv(env) });

/** The appliance on a database that outlives it (stopping it must not drop what the test restores). */
async function applianceOn(dataDir: string, dataKey: string, database?: TestDatabase): Promise<TestServer> {
  const kept: TestDatabase = database
    ? { ...database, drop: async () => {} }
    : { kind: 'sqlite', url: `sqlite:${join(dataDir, 'samverka.db')}`, drop: async () => {} };
  return startServer({ env: { DATA_KEY: dataKey, DATA_DIR: dataDir }, database: kept });
}

/** The SQLite commands in the SQLite pass; pg_dump and pg_restore in the PostgreSQL pass. */
const sqliteTest = passEngine() === 'sqlite' ? test : test.skip;
const postgresTest =
  passEngine() === 'postgres' || (!process.env.TEST_DB && process.env.TEST_DATABASE_URL) ? test : test.skip;

async function bookWithPersonalNumber(app: TestServer): Promise<string> {
  const { client } = await loggedIn(app);
  const booked = await client.request('POST', '/api/v1/meetings', {
    json: booking({ participants: [patient, booking().participants[1]] }),
  });
  if (booked.status !== 201) throw new Error(booked.text);
  return booked.json().id;
}

/** The restored appliance has the meeting, and the sealed number opens with the kept DATA_KEY only. */
async function readsTheMeeting(
  t: import('ava').ExecutionContext,
  app: TestServer,
  meetingId: string,
  dataKey: string,
): Promise<void> {
  const { client } = await loggedIn(app);
  const meeting = await client.get(`/api/v1/meetings/${meetingId}`);
  t.is(meeting.status, 200, meeting.text);
  t.is(
    meeting.json().participants.find((p: { name: string }) => p.name === 'Tolvan Tolvansson').personalNumberMasked,
    '19121212-****',
  );
  const { personal_number_sealed: sealed } = await app.server.app
    .db('participants')
    .where({ meeting_id: meetingId, name: 'Tolvan Tolvansson' })
    .first();
  t.is(decrypt(Buffer.from(dataKey, 'hex'), sealed, 'participants.personal_number_sealed'), '191212121212');
  t.throws(() => decrypt(randomBytes(32), sealed, 'participants.personal_number_sealed'));
}

sqliteTest(
  'a backup taken while the appliance runs, restored into a fresh data folder, has the same meetings and reads the personal numbers',
  async (t) => {
    const dataKey = randomBytes(32).toString('hex');
    const volume = tempDir('backup-volume');
    const backups = tempDir('backup-host');
    const app = await applianceOn(volume, dataKey);
    let meetingId: string;
    try {
      meetingId = await bookWithPersonalNumber(app);
      // While it runs: `docker compose exec appliance samverka backup --to /backups/samverka-….db`
      const file = join(backups, 'samverka-2026-11-26.db');
      const backup = await samverka(
        { DATA_DIR: volume, DATABASE_URL: `sqlite:${join(volume, 'samverka.db')}` },
        'backup',
        '--to',
        file,
      );
      t.is(backup.code, 0, backup.stderr);
      t.regex(backup.stdout, /backup written to .*samverka-2026-11-26\.db; keep it with DATA_KEY/);
      t.true(existsSync(file));
      const again = await samverka(
        { DATA_DIR: volume, DATABASE_URL: `sqlite:${join(volume, 'samverka.db')}` },
        'backup',
        '--to',
        file,
      );
      t.is(again.code, 1, 'a backup never overwrites another');
    } finally {
      await app.stop();
    }

    // Into a fresh volume: `docker compose run --rm --no-deps appliance samverka restore --from /backups/…`
    const fresh = tempDir('backup-fresh');
    const restoreEnv = { DATA_DIR: fresh, DATABASE_URL: `sqlite:${join(fresh, 'samverka.db')}` };
    const restored = await samverka(restoreEnv, 'restore', '--from', join(backups, 'samverka-2026-11-26.db'));
    t.is(restored.code, 0, restored.stderr);
    t.regex(restored.stdout, /restored .* \(\d+ migrations\)/);
    const twice = await samverka(restoreEnv, 'restore', '--from', join(backups, 'samverka-2026-11-26.db'));
    t.is(twice.code, 1);
    t.regex(twice.stderr, /exists; stop the appliance and add --force/);

    const back = await applianceOn(fresh, dataKey);
    try {
      await readsTheMeeting(t, back, meetingId!, dataKey);
    } finally {
      await back.stop();
    }
  },
);

postgresTest(
  "PostgreSQL: INSTALL.md's pg_dump and pg_restore lines bring the meetings and the personal numbers back",
  async (t) => {
    const dataKey = randomBytes(32).toString('hex');
    const original = (await postgresDatabase())!;
    const fresh = (await postgresDatabase())!;
    t.teardown(async () => {
      await original.drop();
      await fresh.drop();
    });
    const app = await applianceOn(tempDir('pg-backup'), dataKey, original);
    let meetingId: string;
    try {
      meetingId = await bookWithPersonalNumber(app);
    } finally {
      await app.stop();
    }
    const dump = join(tempDir('pg-dump'), 'samverka-2026-11-26.dump');
    // pg_dump -U samverka -Fc samverka > …: the same flags, the test server's database by URL.
    const dumped = await run('pg_dump', ['-Fc', '-d', original.url, '-f', dump]);
    t.is(dumped.code, 0, dumped.stderr);
    const restored = await run('pg_restore', ['-d', fresh.url, '--clean', '--if-exists', dump]);
    t.is(restored.code, 0, restored.stderr);
    const back = await applianceOn(tempDir('pg-restored'), dataKey, fresh);
    try {
      await readsTheMeeting(t, back, meetingId!, dataKey);
    } finally {
      await back.stop();
    }
  },
);

sqliteTest('restore refuses a file that is not a Samverka database, and changes nothing', async (t) => {
  const dir = tempDir('backup-bad');
  const env = { DATA_DIR: dir, DATABASE_URL: `sqlite:${join(dir, 'samverka.db')}` };
  const junk = join(dir, 'not-a-backup.db');
  writeFileSync(junk, 'this is not SQLite');
  const result = await samverka(env, 'restore', '--from', junk);
  t.is(result.code, 1);
  t.regex(result.stderr, /is not a SQLite database|is damaged/);
  t.false(existsSync(join(dir, 'samverka.db')));
  t.is(readFileSync(junk, 'utf8'), 'this is not SQLite');
});

sqliteTest(
  'restore refuses a backup written by a newer Samverka, and the current database stays in place',
  async (t) => {
    // Hospital IT goes back to the previous version after an upgrade and restores last night's
    // backup, taken by the newer one: the appliance could not have started on it (knex: "the
    // migration directory is corrupt"), and --force had already put it in place of the database.
    const dir = tempDir('backup-newer');
    const env = { DATA_DIR: dir, DATABASE_URL: `sqlite:${join(dir, 'samverka.db')}` };
    t.is((await samverka(env, 'unit', 'add', '--name', 'Barnkliniken')).code, 0);
    const backup = join(dir, 'from-a-newer-version.db');
    t.is((await samverka(env, 'backup', '--to', backup)).code, 0);
    const db = createDb(`sqlite:${backup}`);
    try {
      await db('knex_migrations').insert({ name: '9999_from_a_newer_version', batch: 2, migration_time: new Date() });
    } finally {
      await db.destroy();
    }
    const result = await samverka(env, 'restore', '--from', backup, '--force');
    t.is(result.code, 1, result.stdout);
    t.regex(result.stderr, /written by a newer Samverka \(migration 9999_from_a_newer_version\)/);
    const current = await samverka(env, 'migrate');
    t.is(current.code, 0, current.stderr);
    t.regex(current.stdout, /database is up to date/);
    t.regex((await samverka(env, 'unit', 'add', '--name', 'Barnkliniken')).stderr, /already exists/);
  },
);
