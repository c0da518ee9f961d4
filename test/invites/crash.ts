// No message is lost: the appliance runs as a child process with 500 messages queued, is killed
// with SIGKILL in the middle of sending, and is started again. Every message reaches the SMSC;
// a message sent but not yet recorded when the process died is sent again, so duplicates are
// bounded by the number of messages in flight: handed to the SMS adapter and not yet recorded (the
// dispatcher's concurrency per channel). Outcomes are recorded in batches, so the process is killed
// while batches are being written.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { createDb } from '../../appliance/src/db/knex.ts';
import { defaultConcurrency } from '../../appliance/src/invites/dispatcher.ts';
import { testDatabase } from '../helpers/databases.ts';
import { startRelay } from '../helpers/relay.ts';
import { startSmsc } from '../helpers/smsc.ts';
import { codeOf, queueCodes } from './_codes.ts';

const main = new URL('../../appliance/src/main.ts', import.meta.url).pathname;
const total = 500;
const inFlightBound = defaultConcurrency;

function startAppliance(env: Record<string, string>): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [`--import=${import.meta.resolve('tsx')}`, main], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr.on('data', () => undefined);
  return { child, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}

test('a process killed mid-dispatch loses no message, and resends no more than were in flight', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'samverka-crash-'));
  const database = await testDatabase();
  const databaseUrl = database.url;
  const dataKey = randomBytes(32);
  let n = 0;
  const smsc = await startSmsc(() => {
    n += 1;
    return { id: `c${n}`, delayMs: 5, receipt: { id: `c${n}`, stat: 'DELIVRD' } };
  });
  const relay = await startRelay();
  const env = {
    DATABASE_URL: databaseUrl,
    DATA_DIR: dir,
    DATA_KEY: dataKey.toString('hex'),
    SESSION_SECRET: randomBytes(32).toString('hex'),
    SMPP_URL: smsc.url,
    SMTP_URL: relay.url,
    SMPP_THROTTLE: '1000',
    REMINDER_OFFSETS: 'none',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  };
  let run: ReturnType<typeof startAppliance> | undefined;
  try {
    const db = createDb(databaseUrl);
    await db.migrate.latest();
    await queueCodes(db, dataKey, total);
    await db.destroy();

    run = startAppliance(env);
    const deadline = Date.now() + 60_000;
    while (smsc.arrivals.length < 150 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    t.true(smsc.arrivals.length >= 150, 'sending had begun');
    run.child.kill('SIGKILL');
    t.is(await run.exited, null, 'killed, not stopped');
    const beforeRestart = smsc.arrivals.length;
    t.true(beforeRestart < total, `killed mid-dispatch (${beforeRestart} of ${total} sent)`);

    run = startAppliance(env);
    const codes = () => new Set(smsc.arrivals.map(codeOf));
    const end = Date.now() + 90_000;
    while (codes().size < total && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    t.is(codes().size, total, 'every message reached the SMSC');

    // Once everything is through, every row is recorded as delivered. On SQLite the new process
    // queues what the dead one left "sending" at once; on PostgreSQL other processes may be sending,
    // so such a row is claimed again only when the dead sender's lease (60 s) runs out.
    const check = createDb(databaseUrl);
    try {
      const until = Date.now() + (database.kind === 'postgres' ? 100_000 : 30_000);
      let rows: { status: string; n: number }[] = [];
      while (Date.now() < until) {
        rows = await check('outbox_messages').select('status').count({ n: '*' }).groupBy('status');
        if (rows.length === 1 && rows[0]?.status === 'delivered') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      t.deepEqual(
        rows.map((r) => [r.status, Number(r.n)]),
        [['delivered', total]],
      );
      // Counted once every row is settled: a re-send after the lease is a duplicate too.
      const duplicates = smsc.arrivals.length - total;
      t.log(`${beforeRestart} sent before SIGKILL, ${duplicates} sent twice`);
      t.true(duplicates <= inFlightBound, `${duplicates} duplicates`);
    } finally {
      await check.destroy();
    }
  } finally {
    run?.child.kill('SIGTERM');
    await run?.exited;
    await smsc.close();
    await relay.close();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  }
});
