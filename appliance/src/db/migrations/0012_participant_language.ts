// The language a participant's messages and pages are in: Swedish unless the booking says English.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('participants', (t) => {
    t.string('language', 2).notNullable().defaultTo('sv');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('participants', (t) => {
    t.dropColumn('language');
  });
}
