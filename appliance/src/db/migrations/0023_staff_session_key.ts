// What belongs to a staff session (its technical test, the tokens of its open pages' views) is
// bound to the session's key: the hash of the id it began with, kept when a password change gives
// the session a new id (the id is what the cookie names; the key never leaves the server). A
// session begun before has its present id's hash as its key, which is what those were bound to.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('staff_sessions', (t) => {
    t.text('session_key').nullable();
  });
  await knex('staff_sessions').update({ session_key: knex.ref('id') });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('staff_sessions', (t) => {
    t.dropColumn('session_key');
  });
}
