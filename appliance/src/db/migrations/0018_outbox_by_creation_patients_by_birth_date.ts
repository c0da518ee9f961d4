// Two reads that walked a whole growing table. The outbox page and the status page list the most
// recent messages (`recentMessages`): without an index on their creation SQLite sorted every
// message ever sent. The log extract finds a patient's rows by the masked personal number
// ("YYYYMMDD-****", meetings/patients.ts): without an index it read every participant.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox_messages', (t) => {
    t.index(['created_at'], 'outbox_messages_created_at_index');
  });
  await knex.schema.alterTable('participants', (t) => {
    t.index(['personal_number_masked'], 'participants_personal_number_masked_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('participants', (t) => {
    t.dropIndex(['personal_number_masked'], 'participants_personal_number_masked_index');
  });
  await knex.schema.alterTable('outbox_messages', (t) => {
    t.dropIndex(['created_at'], 'outbox_messages_created_at_index');
  });
}
