// The outbox: the only way a message leaves. Rows are written in the same transaction as the
// change that causes them; a dispatcher sends them, retries, and records what the relay said.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('outbox_messages', (t) => {
    t.string('id', 36).primary();
    t.string('channel', 8).notNullable(); // email | sms
    t.string('kind', 24).notNullable(); // invitation, reminder, rescheduled, cancelled, sms_code, nudge, evaluation_request
    t.integer('priority').notNullable().defaultTo(0); // SMS codes go first
    t.string('meeting_id', 36);
    t.string('participant_id', 36);
    t.string('recipient', 254).notNullable(); // e-mail address or E.164 number
    t.string('language', 2).notNullable();
    t.text('data').notNullable(); // what the template needs, JSON
    t.text('secret_sealed'); // a one-time link or code, sealed under DATA_KEY and wiped once sent
    t.string('status', 12).notNullable(); // queued, sending, sent, delivered, failed
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true }).notNullable();
    t.timestamp('claimed_until', { useTz: true }); // a dispatcher's lease while sending
    t.text('provider_reply');
    t.text('last_error');
    t.string('fallback_of', 36); // the SMS this e-mail replaces after a failed delivery
    t.string('dedupe_key', 200).unique(); // e.g. one 24-hour reminder per participant
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('sent_at', { useTz: true });
    t.timestamp('delivered_at', { useTz: true });
    t.timestamp('failed_at', { useTz: true });
    t.index(['status', 'next_attempt_at']);
    t.index(['meeting_id']);
    t.index(['participant_id']);
  });

  // An SMS has one provider id per part; receipts come back by provider id.
  await knex.schema.createTable('outbox_provider_ids', (t) => {
    t.string('provider_id', 128).primary();
    t.string('message_id', 36).notNullable().references('id').inTable('outbox_messages').onDelete('CASCADE');
    t.string('receipt', 16);
    t.index(['message_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('outbox_provider_ids');
  await knex.schema.dropTableIfExists('outbox_messages');
}
