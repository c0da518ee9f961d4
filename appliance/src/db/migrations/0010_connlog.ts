// Connection logs: one row per thing that happened to a meeting or a participant, gathered from
// the other domains' events for support. The sentence is rendered at read time in the reader's
// language; the row keeps the type and structured details.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('connlog_entries', (t) => {
    t.bigIncrements('id').primary();
    t.timestamp('at', { useTz: true }).notNullable();
    // No foreign keys: the log outlives what it describes until its own retention period ends.
    t.string('meeting_id', 36).notNullable();
    t.string('participant_id', 36);
    t.string('type', 40).notNullable();
    t.boolean('error').notNullable().defaultTo(false);
    t.text('details').notNullable();
    // What the entry is about (an outbox message, a tech-test result): an event seen twice is logged once.
    t.string('ref', 80);
    t.unique(['type', 'ref']);
    t.index(['meeting_id', 'at']);
    t.index(['at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('connlog_entries');
}
