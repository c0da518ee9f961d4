// The bus between appliance processes on one PostgreSQL (db/notify.ts): each event crossing
// processes, its ids only, kept a few minutes so that a process that lost its listening
// connection catches up. Unused on SQLite (one process).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('bus_events', (t) => {
    t.bigIncrements('id').primary();
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.string('origin', 16).notNullable();
    t.string('name', 64).notNullable();
    t.jsonb('payload').notNullable();
    t.index(['at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('bus_events');
}
