// The outbox records in batches, on SQLite and PostgreSQL: a batch's sends, retries and failures
// one statement each, every row keeping its own reply, time and reason (and the status page counting
// them); many receipts in one transaction (an unknown id among them changes nothing and holds
// nothing up); and two dispatchers draining one queue through one SMSC, each claiming many rows at a
// time, never send a message twice; a code enqueued while a batch claims goes out at once, not at the
// next poll; a message the SMS adapter holds past its claim's lease is not claimed and sent again.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import type { Knex } from 'knex';
import { createDb, type Db } from '../../appliance/src/db/knex.ts';
import { Dispatcher, type DispatcherOptions } from '../../appliance/src/invites/dispatcher.ts';
import { MailSender } from '../../appliance/src/invites/mail.ts';
import {
  claim,
  enqueue,
  lockMessages,
  queueStats,
  recordFailures,
  recordReceipts,
  recordRetries,
  recordSends,
  receiptLinks,
  type OutboxMessage,
} from '../../appliance/src/invites/outbox.ts';
import { SmsSender } from '../../appliance/src/invites/sms.ts';
import { Templates } from '../../appliance/src/invites/templates.ts';
import {
  backendOf,
  everyDatabase,
  passEngine,
  someoneWaitsFor,
  withDatabase,
  postgresDatabase,
  sqliteDatabase,
  type TestDatabase,
} from '../helpers/databases.ts';
import { toDate } from '../../appliance/src/db/values.ts';
import { planOf } from '../helpers/plans.ts';
import { present } from '../helpers/present.ts';
import { startSmsc, type Answer, type TestSmsc } from '../helpers/smsc.ts';
import { until } from '../helpers/wait.ts';
import { codeOf, queueCodes } from './_codes.ts';

const dataKey = randomBytes(32);
// A fresh database for each test, made before any test is declared (ava wants them at once).
const forOutcomes = await everyDatabase();
const forReceipts = await everyDatabase();
const forReceiptsTogether = await everyDatabase();
// Two processes share one queue only on PostgreSQL (with SQLite one process sends).
const postgres = process.env.TEST_DB === 'sqlite' ? undefined : await postgresDatabase();
// The race between a batch's claim and another connection's enqueue, on a database of its own.
const forNotify = process.env.TEST_DB === 'sqlite' ? undefined : await postgresDatabase();
const forLease = await everyDatabase();
const forReusedIds = await everyDatabase();
const forReceiptRecordedMeanwhile = await everyDatabase();
// Row locks are PostgreSQL's (SQLite runs one writer at a time).
const forLockOrder = process.env.TEST_DB === 'sqlite' ? undefined : await postgresDatabase();

/** How many messages have each status. */
async function statuses(db: Db): Promise<Record<string, number>> {
  const rows: { status: string; n: number | string }[] = await db('outbox_messages')
    .select('status')
    .count({ n: '*' })
    .groupBy('status');
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/** `count` codes queued on the freshly migrated database, through a connection of their own. */
async function queuedCodes(database: TestDatabase, count: number): Promise<void> {
  const db = createDb(database.url);
  await db.migrate.latest();
  await queueCodes(db, dataKey, count);
  await db.destroy();
}

/** An appliance's sending part: its own connection pool, SMPP link and dispatcher. */
interface Sender {
  db: Db;
  sms: SmsSender;
  dispatcher: Dispatcher;
  logs: string[];
  changes: { message: OutboxMessage; status: string }[];
}

function startSender(
  database: TestDatabase,
  smsc: TestSmsc,
  options: Pick<DispatcherOptions, 'concurrency' | 'pollMs' | 'leaseMs'> = {},
  throttle = 1000,
): Sender {
  const db = createDb(database.url);
  const logs: string[] = [];
  const changes: Sender['changes'] = [];
  const log = (_level: string, message: string) => logs.push(message);
  const sms = new SmsSender({
    url: smsc.url,
    sender: 'Samverka',
    throttle,
    onReceipt: (receipt): Promise<void> => dispatcher.receipt(receipt),
    log,
  });
  const dispatcher: Dispatcher = dispatcherFor(db, sms, logs, {
    onStatus: (message, status) => changes.push({ message, status }),
    ...options,
  });
  return { db, sms, dispatcher, logs, changes };
}

/** A dispatcher on `db` sending SMS through `sms`, its log lines into `logs`. */
function dispatcherFor(
  db: Db,
  sms: ConstructorParameters<typeof Dispatcher>[0]['sms'],
  logs: string[],
  options: Partial<ConstructorParameters<typeof Dispatcher>[0]> = {},
): Dispatcher {
  return new Dispatcher({
    db,
    dataKey,
    publicUrl: new URL('https://samverka.region.se'),
    mailFrom: 'Samverka <noreply@region.se>',
    templates: new Templates(null, (message) => logs.push(message)),
    // No e-mail is queued in these tests: a relay that is not there is never asked.
    mail: new MailSender({ url: 'smtp://127.0.0.1:9', from: 'Samverka <noreply@region.se>' }),
    sms,
    log: (_level, message) => logs.push(message),
    ...options,
  });
}

async function stopSender(sender: Sender): Promise<void> {
  await sender.dispatcher.stop();
  await sender.sms.close();
  await sender.db.destroy();
}

for (const database of forOutcomes) {
  test.serial(
    `a batch's sends, retries and failures are one statement each, and every row keeps its own provider ids, reply, next attempt and reason (${database.kind})`,
    async (t) => {
      const db = createDb(database.url);
      try {
        await db.migrate.latest();
        await queueCodes(db, dataKey, 7);
        const claimed = await claim(db, dataKey, { limit: 7, leaseMs: 60_000, channel: 'sms' });
        const [a, b, c, d, e, f, g] = claimed.map((m) => m.id);
        const soon = new Date('2030-01-01T10:00:00.000Z');
        const later = new Date('2030-01-01T11:30:00.000Z');
        const updates: string[] = [];
        db.on('query', (q: { sql: string }) => {
          if (/^update\b.*outbox_messages/i.test(q.sql)) updates.push(q.sql);
        });
        await db.transaction(async (trx) => {
          await recordSends(trx, [
            { id: present(a, 'a'), providerIds: ['<a@relay>'], reply: '250 2.0.0 Ok: queued as AAA' },
            { id: present(b, 'b'), providerIds: ['b-1', 'b-2'] },
            { id: present(c, 'c'), providerIds: ['<c@relay>'], reply: '250 2.0.0 Ok: queued as CCC' },
          ]);
          await recordRetries(trx, [
            { id: present(d, 'd'), error: 'the relay could not be reached: ECONNREFUSED', nextAttemptAt: soon },
            { id: present(e, 'e'), error: '451 4.3.0 try again later', nextAttemptAt: later },
          ]);
          await recordFailures(trx, [
            { id: present(f, 'f'), reason: '550 5.1.1 no such mailbox' },
            { id: present(g, 'g'), reason: 'gave up after 12 attempts: 421 busy' },
          ]);
        });
        t.is(updates.length, 3, 'one UPDATE for the sends, one for the retries, one for the failures');
        const rows = new Map(
          (await db('outbox_messages').select('*')).map((r: Record<string, unknown>) => [r.id, r] as const),
        );
        const row = (id: string | undefined) => present(rows.get(present(id, 'an id')), 'its row');
        t.like(row(a), { status: 'sent', provider_reply: '250 2.0.0 Ok: queued as AAA', secret_sealed: null });
        t.like(row(b), { status: 'sent', provider_reply: null, secret_sealed: null });
        t.like(row(c), { status: 'sent', provider_reply: '250 2.0.0 Ok: queued as CCC' });
        const ids = await db('outbox_provider_ids').select('provider_id', 'message_id');
        t.deepEqual(
          ids.map((r: { provider_id: string; message_id: string }) => [r.provider_id, r.message_id]).sort(),
          [
            ['<a@relay>', a],
            ['<c@relay>', c],
            ['b-1', b],
            ['b-2', b],
          ].sort(),
        );
        t.like(row(d), {
          status: 'queued',
          claimed_until: null,
          last_error: 'the relay could not be reached: ECONNREFUSED',
        });
        t.like(row(e), { status: 'queued', last_error: '451 4.3.0 try again later' });
        t.is(toDate(row(d).next_attempt_at).toISOString(), soon.toISOString());
        t.is(toDate(row(e).next_attempt_at).toISOString(), later.toISOString());
        t.like(row(f), { status: 'failed', last_error: '550 5.1.1 no such mailbox', secret_sealed: null });
        t.like(row(g), { status: 'failed', last_error: 'gave up after 12 attempts: 421 busy' });
        t.truthy(row(f).failed_at);
        // The status page's counts: the two failures are the last day's, and no longer two days on.
        t.deepEqual(await queueStats(db), { queued: 0, retrying: 2, sending: 0, failedLastDay: 2 });
        t.is((await queueStats(db, new Date(Date.now() + 2 * 86_400_000))).failedLastDay, 0);
      } finally {
        await db.destroy();
        await database.drop();
      }
    },
  );
}

for (const database of forReceipts) {
  test.serial(
    `a batch of receipts is matched with one look-up: the known ones are recorded, an unknown id changes nothing (${database.kind})`,
    async (t) => {
      const db = createDb(database.url);
      try {
        await db.migrate.latest();
        await queueCodes(db, dataKey, 3);
        const claimed = await claim(db, dataKey, { limit: 3, leaseMs: 60_000, channel: 'sms' });
        const one = present(claimed[0], 'the first message claimed');
        const two = present(claimed[1], 'the second message claimed');
        const three = present(claimed[2], 'the third message claimed');
        // The second message went as two parts: it is delivered only when both are.
        await db.transaction((trx) =>
          recordSends(trx, [
            { id: one.id, providerIds: ['1001'] },
            { id: two.id, providerIds: ['2001', '2002'] },
            { id: three.id, providerIds: ['3001'] },
          ]),
        );
        const first = await db.transaction((trx) =>
          recordReceipts(trx, [
            { providerId: '1001', receipt: 'delivered', reason: null },
            { providerId: '2001', receipt: 'delivered', reason: null },
            { providerId: '9999', receipt: 'delivered', reason: null },
            { providerId: '3001', receipt: 'failed', reason: 'undeliverable (001)' },
          ]),
        );
        t.deepEqual([...first.unknown], ['9999']);
        t.deepEqual(
          first.changed.map((c) => [c.message.id, c.status, c.reason]).sort(),
          [
            [one.id, 'delivered', undefined],
            [three.id, 'failed', 'undeliverable (001)'],
          ].sort(),
        );
        const row = async (id: string) => db('outbox_messages').where({ id }).first();
        t.is((await row(one.id)).status, 'delivered');
        t.is((await row(two.id)).status, 'sent', 'one part of two delivered');
        t.is((await row(three.id)).last_error, 'undeliverable (001)');

        // The other part, with a receipt the gateway repeats: only the second message changes.
        const second = await db.transaction((trx) =>
          recordReceipts(trx, [
            { providerId: '2002', receipt: 'delivered', reason: null },
            { providerId: '1001', receipt: 'delivered', reason: null },
          ]),
        );
        t.deepEqual(second.unknown, new Set());
        t.deepEqual(
          second.changed.map((c) => [c.message.id, c.status]),
          [[two.id, 'delivered']],
        );
        t.deepEqual(await statuses(db), { delivered: 2, failed: 1 });
      } finally {
        await db.destroy();
        await database.drop();
      }
    },
  );
}

for (const database of forReusedIds) {
  test.serial(
    `an id the gateway gives again (its counter started over) is the new part's alone: an old part's receipt does not count for it (${database.kind})`,
    async (t) => {
      await withDatabase(database, async (db) => {
        await db.migrate.latest();
        await queueCodes(db, dataKey, 2);
        const [old, fresh] = await claim(db, dataKey, { limit: 2, leaseMs: 60_000, channel: 'sms' });
        // An old message of two parts: one part's receipt came, the other's never did.
        await db.transaction((trx) =>
          recordSends(trx, [{ id: present(old, 'the old message').id, providerIds: ['5000', '5001'] }]),
        );
        await db.transaction((trx) =>
          recordReceipts(trx, [{ providerId: '5000', receipt: 'delivered', reason: null }]),
        );
        // The gateway restarted and numbers from 5000 again: the new message's first part is 5000.
        const id = present(fresh, 'the new message').id;
        await db.transaction((trx) => recordSends(trx, [{ id, providerIds: ['5000', '5002'] }]));
        const recorded = await db.transaction((trx) =>
          recordReceipts(trx, [{ providerId: '5002', receipt: 'delivered', reason: null }]),
        );
        t.deepEqual(recorded.changed, [], 'one part of two delivered: still waiting for the other');
        t.is((await db('outbox_messages').where({ id }).first()).status, 'sent');
      });
    },
  );
}

for (const database of forReceiptRecordedMeanwhile) {
  test.serial(
    `a receipt another process recorded between a batch's look-up of its message and the batch's lock (a leader change: the gateway sent it again to the new leader): the batch finds the message final and neither overwrites nor records it again (${database.kind})`,
    async (t) => {
      await withDatabase(database, async (db) => {
        await db.migrate.latest();
        await queueCodes(db, dataKey, 1);
        const [message] = await claim(db, dataKey, { limit: 1, leaseMs: 60_000, channel: 'sms' });
        const id = present(message, 'the message').id;
        await db.transaction((trx) => recordSends(trx, [{ id, providerIds: ['6000'] }]));
        // The batch looks the receipt's message up, as it does before it locks anything...
        const found = await receiptLinks(db, ['6000']);
        // ...and meanwhile the other process records the same receipt.
        const first = await db.transaction((trx) =>
          recordReceipts(trx, [{ providerId: '6000', receipt: 'delivered', reason: null }]),
        );
        t.is(first.changed.length, 1);
        const deliveredAt = (await db('outbox_messages').where({ id }).first()).delivered_at;
        for (const receipt of [
          { providerId: '6000', receipt: 'failed' as const, reason: 'UNDELIV' },
          { providerId: '6000', receipt: 'delivered' as const, reason: null },
        ]) {
          const late = await db.transaction(async (trx) => {
            await lockMessages(trx, [...found.values()]);
            return recordReceipts(trx, [receipt], new Date(Date.now() + 60_000), found);
          });
          t.deepEqual(late.changed, [], `nothing changed by the late ${receipt.receipt} receipt`);
          t.deepEqual([...late.unknown], [], 'and it is not a stranger: acknowledged as known');
        }
        const row = await db('outbox_messages').where({ id }).first();
        t.like(row, { status: 'delivered', last_error: null });
        t.deepEqual(row.delivered_at, deliveredAt, 'delivered when the first receipt said so');
      });
    },
  );
}

for (const database of forReceiptsTogether) {
  test.serial(
    `receipts the gateway sends together, one for an id never sent from here: the others are recorded, all are acknowledged, the stranger logged once (${database.kind})`,
    async (t) => {
      await queuedCodes(database, 3);
      let n = 0;
      const smsc = await startSmsc(() => ({ id: String(7001 + n++) }));
      const sender = startSender(database, smsc);
      try {
        sender.dispatcher.start();
        await until('three SMS sent', async () => (await statuses(sender.db)).sent === 3);
        const answers = await Promise.all(['7001', '7002', '424242', '7003'].map((id) => smsc.receipt(id)));
        t.deepEqual(answers, [0, 0, 0, 0], 'every receipt acknowledged');
        t.deepEqual(await statuses(sender.db), { delivered: 3 });
        t.deepEqual(
          sender.changes.filter((c) => c.status === 'delivered').length,
          3,
          'each delivery told once, for the meeting page and the connection log',
        );
        t.is(await smsc.receipt('424242'), 0, 'a repeat is acknowledged too');
        t.is(sender.logs.filter((line) => line.includes('424242')).length, 1);
      } finally {
        await stopSender(sender);
        await smsc.close();
        await database.drop();
      }
    },
  );
}

for (const database of postgres ? [postgres] : []) {
  test.serial(
    `two dispatchers claiming many rows at a time drain one queue without sending any message twice (postgres)`,
    async (t) => {
      const total = 300;
      await queuedCodes(database, total);
      let n = 0;
      // Each SMS answered after a moment and delivered: the two dispatchers' claims overlap in time.
      const smsc = await startSmsc((): Answer => {
        const id = String(100_000 + n++);
        return { id, delayMs: 2, receipt: { id, stat: 'DELIVRD' } };
      });
      const senders: [Sender, Sender] = [startSender(database, smsc), startSender(database, smsc)];
      try {
        for (const s of senders) s.dispatcher.start();
        await until('every message delivered', async () => (await statuses(senders[0].db)).delivered === total, 60_000);
        const codes = smsc.arrivals.map(codeOf);
        t.is(codes.length, total, 'one submit_sm per message');
        t.is(new Set(codes).size, total, 'every message once');
        const attempts = await senders[0].db('outbox_messages').max({ most: 'attempts' }).first();
        t.is(Number(attempts?.most), 1, 'no message claimed twice');
        const sentBy = senders.map((s) => s.changes.filter((c) => c.status === 'sent').length);
        t.is(
          sentBy.reduce((sum, n) => sum + n, 0),
          total,
        );
        t.log(`sent by each dispatcher: ${sentBy.join(' and ')}`);
      } finally {
        for (const s of senders) await stopSender(s);
        await smsc.close();
        await database.drop();
      }
    },
  );
}

for (const database of forNotify ? [forNotify] : []) {
  test.serial(
    `a code enqueued while a batch claims and commits goes out at once, not at the next poll: the claim that missed it does not leave its lane drained (postgres)`,
    async (t) => {
      const db = createDb(database.url);
      await db.migrate.latest();
      // Each send recorded makes its batch's commit take a moment (a deferred trigger runs at
      // COMMIT): room for another process's enqueue and notify to land between the batch's claim
      // and the end of its commit, as they do on a busy appliance.
      await db.raw(`
        CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_sleep(0.3); RETURN NULL; END $$;
        CREATE CONSTRAINT TRIGGER slow_commit AFTER UPDATE ON outbox_messages
          DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
          WHEN (OLD.status = 'sending' AND NEW.status = 'sent') EXECUTE FUNCTION slow_commit();`);
      // One in flight, three claimed at a time: the loop claims three of these four, and the
      // batch that records the second send claims the fourth, finding fewer than it asked for.
      await queueCodes(db, dataKey, 4);
      const smsc = await startSmsc();
      // The poll is far away: only the notify can bring the new code out.
      const sender = startSender(database, smsc, { concurrency: 1, pollMs: 10 * 60_000 });
      let batchTx: string | undefined;
      // Whether the code was enqueued and the dispatcher told before the batch had committed (its
      // committed sends are told through onStatus, right after it applies its claim).
      let notifiedDuringBatch: boolean | undefined;
      sender.db.on('query', (q: { sql: string; __knexTxId?: string }) => {
        if (batchTx || !q.__knexTxId || !/^update "outbox_messages" set "status" = \$1, "claimed_until"/.test(q.sql))
          return;
        batchTx = q.__knexTxId;
        const toldBefore = sender.changes.length;
        // Another request enqueues an SMS code now, on a connection of its own, and tells the
        // dispatcher once it has committed: after the claim read the queue, before its batch ends.
        void enqueue(db, dataKey, {
          channel: 'sms',
          kind: 'sms_code',
          recipient: '+46709999999',
          language: 'sv',
          data: { minutes: 10 },
          secret: '424242',
        }).then(() => {
          notifiedDuringBatch = sender.changes.length === toldBefore;
          sender.dispatcher.notify();
        });
      });
      try {
        sender.dispatcher.start();
        await until('the first four codes at the SMSC', () => smsc.arrivals.length >= 4);
        t.true(notifiedDuringBatch, 'the code was enqueued between the claim and the end of its batch');
        const code = await until('the code enqueued during the batch at the SMSC', () =>
          smsc.arrivals.find((a) => codeOf(a) === '424242'),
        );
        t.truthy(code);
        t.is(smsc.arrivals.length, 5, 'every message once');
      } finally {
        await stopSender(sender);
        await smsc.close();
        await db.destroy();
        await database.drop();
      }
    },
  );
}

for (const database of forLease) {
  test.serial(
    `a message that waits in the SMS adapter longer than its claim's lease is not claimed again and sent twice (${database.kind})`,
    async (t) => {
      // The adapter may hold a message it was handed for longer than the lease the dispatcher checks
      // at hand-out (three quarters of it, 45 of 60 s): the throttle (SMPP_THROTTLE=1 and 20 two-part
      // invitations in flight take 40 s), twenty ESME_RTHROTTLED pauses of 5 s, or the link down for up
      // to the adapter's 60 s queue timeout. Here the same at a smaller scale: a lease of 2 s, one
      // part a second, six codes in flight at once.
      const total = 6;
      await queuedCodes(database, total);
      const smsc = await startSmsc();
      const sender = startSender(database, smsc, { leaseMs: 2000, pollMs: 100 }, 1);
      try {
        sender.dispatcher.start();
        await until('every code sent', async () => (await statuses(sender.db)).sent === total, 30_000);
        await until(
          'nothing left in the adapter or in flight',
          () => sender.dispatcher.inFlight === 0 && sender.sms.state().queued === 0,
          30_000,
        );
        const codes = smsc.arrivals.map(codeOf);
        t.is(new Set(codes).size, total, 'every code arrived');
        t.is(codes.length, total, 'each code once');
      } finally {
        await stopSender(sender);
        await smsc.close();
        await database.drop();
      }
    },
  );
}

// SQLite plans without statistics: a status beside the ids could send it along the status index,
// through every message with that status (every e-mail ever sent stays "sent").
if (passEngine() === 'sqlite')
  test('receipts and failures find their messages by id, not by walking every message with a status (sqlite)', async (t) => {
    const database = sqliteDatabase();
    const db = createDb(database.url);
    try {
      await db.migrate.latest();
      // As many as a batch holds: with a few ids SQLite takes the key anyway.
      await queueCodes(db, dataKey, 16);
      const claimed = await claim(db, dataKey, { limit: 16, leaseMs: 60_000, channel: 'sms' });
      const sent = claimed.slice(0, 12);
      await db.transaction((trx) =>
        recordSends(
          trx,
          sent.map((m, i) => ({ id: m.id, providerIds: [String(i)] })),
        ),
      );
      const statements: { sql: string; bindings: Knex.RawBinding[] }[] = [];
      const keep = (q: { sql: string; bindings?: Knex.RawBinding[] }) => {
        if (/outbox_messages/.test(q.sql)) statements.push({ sql: q.sql, bindings: q.bindings ?? [] });
      };
      db.on('query', keep);
      await db.transaction(async (trx) => {
        await recordReceipts(
          trx,
          sent.slice(0, 10).map((_, i) => ({
            providerId: String(i),
            receipt: i < 8 ? 'delivered' : 'failed',
            reason: i < 8 ? null : 'undeliverable (001)',
          })),
        );
        await recordFailures(
          trx,
          claimed.slice(12).map((m) => ({ id: m.id, reason: 'erased' })),
        );
      });
      db.off('query', keep);
      t.true(statements.length >= 3, statements.map((s) => s.sql).join('\n'));
      for (const { sql, bindings } of statements) {
        const plan = await planOf(db, sql, bindings);
        t.notRegex(plan, /outbox_messages_claim_order|SCAN (m|outbox_messages)\b/, `${sql}\n=> ${plan}`);
      }
      t.deepEqual(await statuses(db), { delivered: 8, failed: 6, sent: 2 }, 'and they do what they did');
    } finally {
      await db.destroy();
      await database.drop();
    }
  });

for (const database of forLockOrder ? [forLockOrder] : []) {
  test.serial(
    'a batch locks the messages of its receipts with those of its sends, in one id order: a transaction taking them in that order meanwhile (an erasure) and the batch both go through, neither fails as a deadlock (postgres)',
    async (t) => {
      const db = createDb(database.url);
      let dispatcher: Dispatcher | undefined;
      try {
        await db.migrate.latest();
        await queueCodes(db, dataKey, 2);
        // The lower id was sent before and waits for its receipt; the higher is sent now.
        const ids = (await db('outbox_messages').orderBy('id').pluck('id')) as string[];
        const earlier = present(ids[0], 'the earlier message');
        const now = present(ids[1], 'the message sent now');
        await db('outbox_messages')
          .where({ id: earlier })
          .update({ status: 'sent', sent_at: new Date().toISOString(), secret_sealed: null });
        await db('outbox_provider_ids').insert({ provider_id: 'p-earlier', message_id: earlier });
        let accept: (() => void) | undefined;
        const logs: string[] = [];
        // A gateway that takes the message when the test says so.
        dispatcher = dispatcherFor(
          db,
          {
            send: () => new Promise((resolve) => (accept = () => resolve({ providerIds: ['p-now'] }))),
            beginClose: () => {},
          },
          logs,
        );
        dispatcher.start();
        await until('the message handed to the gateway', () => accept !== undefined);
        let delivered: Promise<void> | undefined;
        await db.transaction(async (trx) => {
          const erasure = await backendOf(trx);
          // An erasure of both (lockMessages' order): it has the earlier, and goes on to the other.
          await lockMessages(trx, [earlier]);
          // The send and the earlier message's receipt come together: one batch.
          present(accept, 'the send')();
          delivered = present(dispatcher, 'the dispatcher').receipt({
            providerId: 'p-earlier',
            status: 'delivered',
            at: new Date(),
          });
          await until('the batch to wait for the earlier message', () => someoneWaitsFor(db, erasure));
          await lockMessages(trx, [now]);
        });
        await present(delivered, 'the receipt recorded');
        t.deepEqual(
          await db('outbox_messages').orderBy('id').pluck('status'),
          ['delivered', 'sent'],
          'the receipt and the send recorded',
        );
        t.deepEqual(
          logs.filter((line) => /cannot record/.test(line)),
          [],
          'the batch was not failed as a deadlock',
        );
      } finally {
        await dispatcher?.stop();
        await db.destroy();
        await database.drop();
      }
    },
  );
}
