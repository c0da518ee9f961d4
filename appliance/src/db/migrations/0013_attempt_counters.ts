// Attempt counters for rate limits (logins and link opens per address, codes per number, re-sends
// per participant): kept in the database so that they hold under parallel requests and across
// processes sharing one PostgreSQL.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('attempt_counters', (t) => {
    t.string('key', 300).primary();
    t.integer('hits').notNullable();
    // Milliseconds since the epoch: compared as numbers in SQLite and PostgreSQL alike.
    t.bigInteger('resets_at').notNullable().index();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('attempt_counters');
}
