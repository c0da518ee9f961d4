// Every new guest session first deletes the sessions that have expired (entry/store.ts,
// insertGuestSession): without an index on their expiry each guest's entry read the whole table.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('guest_sessions', (t) => {
    t.index(['expires_at'], 'guest_sessions_expires_at_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('guest_sessions', (t) => {
    t.dropIndex(['expires_at'], 'guest_sessions_expires_at_index');
  });
}
