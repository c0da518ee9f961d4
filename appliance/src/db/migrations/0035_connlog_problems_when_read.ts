// Whether a connection log entry is a problem is judged when it is read, from its type and details
// (connlog/model.ts's problemRule), no longer stored with it: an entry written before the rule
// changed (a lost connection, a reconnect, a participant missing at the no-show time) is judged by
// the rule of today. The stored flag goes. SQLite drops a column itself since 3.35 (the driver's
// is later), as PostgreSQL does.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table connlog_entries drop column error');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('connlog_entries', (t) => {
    t.boolean('error').notNullable().defaultTo(false);
  });
}
