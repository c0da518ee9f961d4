// The outbox's claim reads due rows of one channel in the order they are sent (priority, then due
// time) and stops after the batch it takes: with this index it walks only those rows, instead of
// reading and sorting every due row for each batch while a backlog of thousands drains. It leads
// with the status, as the index it replaces, which the queue's counts and the receipts' look-up use.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    'create index outbox_messages_claim_order on outbox_messages (status, channel, priority desc, next_attempt_at)',
  );
  await knex.schema.alterTable('outbox_messages', (t) => t.dropIndex(['status', 'next_attempt_at']));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox_messages', (t) => t.index(['status', 'next_attempt_at']));
  await knex.raw('drop index outbox_messages_claim_order');
}
