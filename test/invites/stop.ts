// A graceful stop (SIGTERM from systemd or `docker compose stop`) with messages on their way. With
// the SMS gateway refusing binds and the mail relay not answering, the appliance does not wait out
// its adapters' queue and connection timeouts (60 s and 30 s, longer than the container's 10 s
// before SIGKILL): what never reached the gateway or relay is queued again with its attempt on
// record, the process exits 0, and the next start sends each message once. With a healthy gateway,
// what the gateway already has gets its answer before the stop ends, so nothing is sent twice.
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { createDb, type Db } from '../../appliance/src/db/knex.ts';
import { enqueue } from '../../appliance/src/invites/outbox.ts';
import { sharedSecrets, startAppliance, type ApplianceProcess } from '../helpers/appliance.ts';
import { testDatabase, type TestDatabase } from '../helpers/databases.ts';
import { startRelay } from '../helpers/relay.ts';
import { delivered, startSmsc } from '../helpers/smsc.ts';
import { until } from '../helpers/wait.ts';
import { codeOf, queueCodes } from './_codes.ts';

/** Well below the SMS adapter's 60 s queue timeout and the relay's 30 s greeting timeout. */
const stopLimitMs = 20_000;

/** SIGTERM, and the exit code, or 'still running' when the process has not ended within stopLimitMs. */
async function stopped(run: ApplianceProcess): Promise<number | null | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<'still running'>((resolve) => (timer = setTimeout(resolve, stopLimitMs, 'still running')));
  try {
    return await Promise.race([run.stop(), limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** One installation's settings: both processes of a test share its database and secrets. */
const installation = (database: TestDatabase, secrets: Record<string, string>, smppUrl: string, smtpUrl: string) => ({
  ...secrets,
  DATABASE_URL: database.url,
  SMPP_URL: smppUrl,
  SMTP_URL: smtpUrl,
  SMPP_THROTTLE: '1000',
  REMINDER_OFFSETS: 'none',
});

async function rows(db: Db): Promise<{ channel: string; status: string; attempts: number; last_error: string }[]> {
  return (await db('outbox_messages').select('channel', 'status', 'attempts', 'last_error')).map((r) => ({
    ...r,
    attempts: Number(r.attempts),
  }));
}

async function queueInvitations(db: Db, dataKey: Buffer, count: number): Promise<void> {
  for (let i = 0; i < count; i++)
    await enqueue(db, dataKey, {
      channel: 'email',
      kind: 'invitation',
      recipient: `anhorig${i}@familj.example`,
      language: 'sv',
      data: { name: `Anhörig ${i}` },
    });
}

test.serial(
  'stopped while the SMS gateway refuses binds and the relay does not answer, the appliance ends at once; every message is queued again and goes once after the restart',
  async (t) => {
    const database = await testDatabase();
    const secrets = sharedSecrets();
    const dataKey = Buffer.from(secrets.DATA_KEY, 'hex');
    const smsc = await startSmsc(delivered('s'));
    smsc.refuseBinds = true; // the gateway is restarting
    // A relay that takes the connection and never greets: nodemailer waits its greeting timeout.
    const held = new Set<Socket>();
    const silent = createServer((socket) => {
      held.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const relayPort = (silent.address() as AddressInfo).port;
    const env = installation(database, secrets, smsc.url, `smtp://127.0.0.1:${relayPort}`);
    const db = createDb(database.url);
    let run: ApplianceProcess | undefined;
    let relay: Awaited<ReturnType<typeof startRelay>> | undefined;
    try {
      await db.migrate.latest();
      await queueCodes(db, dataKey, 8);
      await queueInvitations(db, dataKey, 8);

      run = startAppliance(env);
      await run.running();
      await until('every message to be handed to its adapter', async () =>
        (await rows(db)).every((r) => r.status === 'sending'),
      );
      await until('the relay to be asked', () => held.size > 0);
      await until('the gateway to refuse a bind', () => /bind refused/.test(run!.out() + run!.err()));

      t.is(await stopped(run), 0, 'the process ended with exit 0 on SIGTERM');
      const after = await rows(db);
      t.is(after.length, 16);
      for (const row of after) {
        t.like(row, { status: 'queued', attempts: 1 }, `${row.channel}: queued again with its attempt on record`);
        t.regex(row.last_error, /the appliance stopped/);
      }

      // The gateway and the relay are back.
      smsc.refuseBinds = false;
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
      relay = await startRelay({ port: relayPort });
      run = startAppliance(env);
      await run.running();
      await until(
        'every message to be sent again',
        async () => (await rows(db)).every((r) => r.status === 'delivered' || r.status === 'sent'),
        30_000,
      );
      t.deepEqual(smsc.arrivals.map(codeOf).sort(), [
        '000000',
        '000001',
        '000002',
        '000003',
        '000004',
        '000005',
        '000006',
        '000007',
      ]);
      t.deepEqual(
        relay.received.map((m) => (m.to && 'text' in m.to ? m.to.text : '')).sort(),
        Array.from({ length: 8 }, (_, i) => `anhorig${i}@familj.example`).sort(),
        'each invitation reached the relay once',
      );
    } finally {
      await run?.kill();
      await db.destroy();
      for (const socket of held) socket.destroy();
      silent.close();
      await relay?.close();
      await smsc.close();
      await database.drop();
    }
  },
);

test.serial(
  'stopped while the gateway is answering, every SMS it has gets its answer: nothing is sent twice',
  async (t) => {
    const database = await testDatabase();
    const secrets = sharedSecrets();
    const dataKey = Buffer.from(secrets.DATA_KEY, 'hex');
    const total = 60;
    // A gateway that takes its time: SMS are in flight (and queued behind the window) when the stop comes.
    const smsc = await startSmsc((arrival, index) => ({ ...delivered('h')(arrival, index), delayMs: 150 }));
    const relay = await startRelay();
    const env = installation(database, secrets, smsc.url, relay.url);
    const db = createDb(database.url);
    let run: ApplianceProcess | undefined;
    try {
      await db.migrate.latest();
      await queueCodes(db, dataKey, total);
      run = startAppliance(env);
      await run.running();
      await until('sending to begin', () => smsc.arrivals.length >= 5);

      t.is(await stopped(run), 0, 'the process ended with exit 0 on SIGTERM');
      const before = smsc.arrivals.length;
      t.true(before < total, `stopped mid-dispatch (${before} of ${total} sent)`);
      t.false(
        (await rows(db)).some((r) => r.status === 'sending'),
        'every message handed to the gateway was recorded before the exit',
      );

      run = startAppliance(env);
      await run.running();
      await until(
        'every message to be delivered',
        async () => (await rows(db)).every((r) => r.status === 'delivered'),
        30_000,
      );
      t.is(new Set(smsc.arrivals.map(codeOf)).size, total, 'every code reached the gateway');
      t.is(smsc.arrivals.length, total, 'none twice');
    } finally {
      await run?.kill();
      await db.destroy();
      await relay.close();
      await smsc.close();
      await database.drop();
    }
  },
);
