// One-time links for patients, proxies and guests. A person may hold several valid tokens (the
// invitation's, a reminder's, a reschedule's): each is stored only as its SHA-256 hash.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('participant_links', (t) => {
    t.string('id', 36).primary();
    t.string('participant_id', 36).notNullable().references('id').inTable('participants').onDelete('CASCADE');
    t.string('person', 8).notNullable(); // 'main' (patient or guest) or 'proxy' (the patient's ombud)
    t.string('token_hash', 64).notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('revoked_at', { useTz: true });
    t.index(['participant_id', 'person']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('participant_links');
}
