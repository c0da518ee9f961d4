// One appliance process per SQLite file (appliance/src/db/hold.ts). Hospital IT starts a second
// process on the production database - a second systemd unit, a test instance pointed at the same
// DATA_DIR: it refuses to start, says which file and which process, and changes nothing; the first
// keeps serving and keeps the messages it is sending. When the first dies by SIGKILL, the next start
// on the same file needs nobody to clear anything and sends what was left.
// SQLite only (PostgreSQL runs several processes with one leader: test/db/processes.ts).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { backupDatabase, BackupError, restoreDatabase } from '../../appliance/src/db/backup.ts';
import { DatabaseInUseError, holdDatabase, lockFileOf } from '../../appliance/src/db/hold.ts';
import { createDb, describeDbError, rawRows, type Db } from '../../appliance/src/db/knex.ts';
import { startAppliance, type ApplianceProcess } from '../helpers/appliance.ts';
import { countRows } from '../helpers/databases.ts';
import { present } from '../helpers/present.ts';
import { startRelay } from '../helpers/relay.ts';
import { startSmsc } from '../helpers/smsc.ts';
import { until } from '../helpers/wait.ts';
import { codeOf, queueCodes } from '../invites/_codes.ts';

const sqliteTest = process.env.TEST_DB === 'postgres' ? test.skip : test.serial;

/** A DATA_DIR with its SQLite database, as `npm start` or the Debian unit has it. */
function dataDir() {
  const dir = mkdtempSync(join(tmpdir(), 'samverka-hold-'));
  const file = join(dir, 'samverka.db');
  return { dir, file, url: `sqlite:${file}`, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

sqliteTest('a second hold on the same file is refused, naming the file and the process that holds it', async (t) => {
  const data = dataDir();
  const first = createDb(data.url);
  const second = createDb(data.url);
  try {
    const hold = present(holdDatabase(first), 'the first hold');
    t.is(hold.file, data.file);
    const error = t.throws(() => holdDatabase(second), { instanceOf: DatabaseInUseError });
    t.is(error?.holder?.pid, process.pid);
    t.true(error?.message.includes(data.file), error?.message);
    t.true(error?.message.includes(`process ${process.pid} on host `), error?.message);

    hold.release();
    present(holdDatabase(second), 'the hold once the first let go').release();
  } finally {
    await first.destroy();
    await second.destroy();
    data.remove();
  }
});

sqliteTest('while held, the database stays in WAL, and others still read, write and back it up', async (t) => {
  const data = dataDir();
  const db = createDb(data.url);
  const other = createDb(data.url);
  try {
    const hold = present(holdDatabase(db), 'the hold');
    await db.schema.createTable('notes', (table) => table.text('text'));
    await db('notes').insert({ text: 'from the holder' });
    t.deepEqual(await rawRows(db, 'pragma journal_mode'), [{ journal_mode: 'wal' }]);
    // The command line's connections (user add, backup) are another process's: the hold is not theirs.
    await other('notes').insert({ text: 'from the command line' });
    t.is(await countRows(db('notes')), 2);
    await backupDatabase(data.url, join(data.dir, 'backup.db'));
    t.true(existsSync(join(data.dir, 'backup.db')));
    hold.release();
  } finally {
    await db.destroy();
    await other.destroy();
    data.remove();
  }
});

sqliteTest('a lock file that cannot be opened stops the start with a sentence naming it', async (t) => {
  const data = dataDir();
  const db = createDb(data.url);
  try {
    mkdirSync(lockFileOf(data.file));
    const error = t.throws(() => holdDatabase(db));
    t.is(
      describeDbError(data.url, error),
      `DATABASE_URL: cannot open ${data.url}: SQLITE_CANTOPEN its lock file ${data.file}-lock: unable to open database file`,
    );
  } finally {
    await db.destroy();
    data.remove();
  }
});

/** The outbox as it stands: each message's status, lease and attempts. */
const outbox = async (db: Db) =>
  new Map(
    (await db('outbox_messages').select('id', 'status', 'claimed_until', 'attempts')).map((r) => [
      String(r.id),
      { status: String(r.status), claimedUntil: r.claimed_until as string | null, attempts: Number(r.attempts) },
    ]),
  );

const total = 100;

/**
 * An installation with `total` SMS codes queued and its SMS gateway down (binds refused): the
 * appliance claims messages and keeps them "sending" while it waits for the gateway.
 */
async function installation() {
  const data = dataDir();
  const dataKey = randomBytes(32);
  const smsc = await startSmsc((arrival) => {
    const id = `r${codeOf(arrival)}`;
    return { id, receipt: { id, stat: 'DELIVRD' } };
  });
  smsc.refuseBinds = true;
  const relay = await startRelay();
  const db = createDb(data.url);
  await db.migrate.latest();
  await queueCodes(db, dataKey, total);
  const env = {
    DATA_DIR: data.dir,
    DATABASE_URL: data.url,
    DATA_KEY: dataKey.toString('hex'),
    SESSION_SECRET: randomBytes(32).toString('hex'),
    SMPP_URL: smsc.url,
    SMTP_URL: relay.url,
    REMINDER_OFFSETS: 'none',
  };
  const processes: ApplianceProcess[] = [];
  return {
    data,
    db,
    smsc,
    start: (): ApplianceProcess => {
      const started = startAppliance(env);
      processes.push(started);
      return started;
    },
    /** Resolves once the appliance has claimed messages it cannot send yet. */
    sending: () =>
      until('messages claimed', async () => (await countRows(db('outbox_messages').where('status', 'sending'))) > 0),
    /** Resolves once the gateway has confirmed every message. */
    delivered: () =>
      until(
        'every message delivered',
        async () => (await countRows(db('outbox_messages').whereNot('status', 'delivered'))) === 0,
        90_000,
      ),
    async close() {
      for (const p of processes) await p.kill();
      await db.destroy();
      await smsc.close();
      await relay.close();
      data.remove();
    },
  };
}

const claimedRows = (rows: Awaited<ReturnType<typeof outbox>>) =>
  [...rows].filter(([, row]) => row.status === 'sending');

sqliteTest(
  'a second appliance on the same DATA_DIR refuses to start, names the file and the first process, and changes nothing',
  async (t) => {
    t.timeout(3 * 60_000);
    const clinic = await installation();
    try {
      const first = clinic.start();
      const port = await first.running();
      await clinic.sending();
      const before = await outbox(clinic.db);

      const second = clinic.start();
      // Refused, not serving beside the first (a start that got through fails here at once).
      const outcome = await Promise.race([
        second.exited,
        second.running().then(
          () => 'serving',
          () => second.exited,
        ),
      ]);
      t.is(outcome, 1, 'the second process exits with 1');
      t.true(second.err().includes(`${clinic.data.file} is in use by another Samverka process`), second.err());
      t.true(second.err().includes(`process ${first.child.pid} on host `), second.err());
      t.notRegex(second.out(), /listening on/, 'it never served');

      // The first process's claims stand: nothing it is sending was queued again behind its back.
      const after = await outbox(clinic.db);
      for (const [id, row] of claimedRows(before)) t.deepEqual(after.get(id), row, `message ${id}`);
      t.true(claimedRows(before).length > 0);
      t.notRegex(second.out(), /queued again/, 'the second process gave back no message');

      // And the first keeps serving: once the gateway is back, it sends every message, each once.
      t.is(first.child.exitCode, null);
      t.is((await fetch(`http://127.0.0.1:${port}/login`)).status, 200);
      clinic.smsc.refuseBinds = false;
      await clinic.delivered();
      t.is(clinic.smsc.arrivals.length, total);
      t.is(new Set(clinic.smsc.arrivals.map(codeOf)).size, total);
      t.is(await first.stop(), 0);
    } finally {
      await clinic.close();
    }
  },
);

sqliteTest(
  'after the appliance is killed with SIGKILL, the next start on the same file needs no manual step and sends what was left',
  async (t) => {
    t.timeout(3 * 60_000);
    const clinic = await installation();
    try {
      const first = clinic.start();
      await first.running();
      await clinic.sending();
      const left = claimedRows(await outbox(clinic.db)).length;
      await first.kill();
      // The lock file stays behind, and holds nothing: no one has to delete it.
      t.true(existsSync(lockFileOf(clinic.data.file)));

      clinic.smsc.refuseBinds = false;
      const next = clinic.start();
      await next.running();
      await clinic.delivered();
      const codes = new Set(clinic.smsc.arrivals.map(codeOf));
      t.is(codes.size, total, 'every code reached the SMS gateway');
      t.is(clinic.smsc.arrivals.length, total, 'each once: the killed process had sent none');
      t.true(
        next.out().includes(`outbox: ${left} message(s) left mid-send by a stopped process are queued again`),
        next.out(),
      );
      t.is(await next.stop(), 0);
    } finally {
      await clinic.close();
    }
  },
);

sqliteTest('samverka restore refuses to replace the database of a running appliance, and says which', async (t) => {
  const data = dataDir();
  const db = createDb(data.url);
  try {
    await db.migrate.latest();
    const backup = join(data.dir, 'backup.db');
    await backupDatabase(data.url, backup);
    const hold = present(holdDatabase(db), 'the hold of the running appliance');
    const error = await t.throwsAsync(restoreDatabase(data.url, backup, { force: true }), { instanceOf: BackupError });
    t.is(
      error?.message,
      `restore: the appliance is running on ${data.file} (process ${process.pid} on host ${hostname()}); stop it first`,
    );
    hold.release();
    t.deepEqual(await restoreDatabase(data.url, backup, { force: true }), {
      migrations: await countRows(db('knex_migrations')),
    });
  } finally {
    await db.destroy();
    data.remove();
  }
});
