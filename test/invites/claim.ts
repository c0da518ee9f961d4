// The outbox's claim on SQLite and PostgreSQL: two dispatchers claiming at once never take the
// same message (FOR UPDATE SKIP LOCKED on PostgreSQL), and a message whose sender died is
// claimed again once its lease has run out.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { createDb } from '../../appliance/src/db/knex.ts';
import { claim, enqueue, recordSends } from '../../appliance/src/invites/outbox.ts';
import { everyDatabase } from '../helpers/databases.ts';
import { present } from '../helpers/present.ts';

const dataKey = randomBytes(32);

for (const database of await everyDatabase()) {
  test.serial(
    `two dispatchers claiming at once share the queue without overlap, and a dead sender's lease runs out (${database.kind})`,
    async (t) => {
      const db = createDb(database.url);
      try {
        await db.migrate.latest();
        await db.transaction(async (trx) => {
          for (let i = 0; i < 40; i++) {
            await enqueue(trx, dataKey, {
              channel: 'sms',
              kind: 'sms_code',
              recipient: `+4670100${String(i).padStart(4, '0')}`,
              language: 'sv',
              data: {},
              secret: String(i).padStart(6, '0'),
              priority: i % 3 === 0 ? 10 : 0,
            });
          }
        });
        // A second pool stands for a second appliance process.
        const other = createDb(database.url);
        try {
          const [a, b] = await Promise.all([
            claim(db, dataKey, { limit: 25, leaseMs: 60_000, channel: 'sms' }),
            claim(other, dataKey, { limit: 25, leaseMs: 60_000, channel: 'sms' }),
          ]);
          const ids = [...a, ...b].map((m) => m.id);
          t.is(new Set(ids).size, ids.length, 'no message claimed twice');
          t.is(ids.length, 40, 'between them they took every due message');
          t.true(a.concat(b).every((m) => m.status === 'sending' && m.attempts === 1));
          const priorityOf = async (id: string) =>
            Number((await db('outbox_messages').where({ id }).first('priority')).priority);
          const first = present(a[0], 'the first message claimed');
          t.is(await priorityOf(first.id), 10, 'the higher priority goes first');
          // The secret is opened for the sender, and gone from the row once sent.
          t.regex(present(first.secret, 'the opened secret'), /^\d{6}$/);
          await db.transaction((trx) => recordSends(trx, [{ id: first.id, providerIds: ['p1'] }]));
          t.is((await db('outbox_messages').where({ id: first.id }).first()).secret_sealed, null);
          // Nothing is due while the leases hold; after they run out, the rest is claimed again.
          t.deepEqual(await claim(db, dataKey, { limit: 50, leaseMs: 60_000, channel: 'sms' }), []);
          const later = await claim(other, dataKey, {
            limit: 50,
            leaseMs: 60_000,
            channel: 'sms',
            now: new Date(Date.now() + 61_000),
          });
          t.is(later.length, 39);
          t.true(later.every((m) => m.attempts === 2));
        } finally {
          await other.destroy();
        }
      } finally {
        await db.destroy();
        await database.drop();
      }
    },
  );
}
