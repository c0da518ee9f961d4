// How far each invited person has come on the way in: the browser their link is bound to, name
// tries, SMS codes (as hashes) and identification; and the guest sessions that browsers hold.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('entry_persons', (t) => {
    t.string('participant_id', 36).notNullable().references('id').inTable('participants').onDelete('CASCADE');
    t.string('person', 8).notNullable(); // 'main' or 'proxy'
    t.string('bound_session', 64); // sha256 of the guest session that first passed the name check
    t.timestamp('bound_at', { useTz: true });
    t.integer('name_failures').notNullable().defaultTo(0);
    t.timestamp('locked_at', { useTz: true });
    t.string('identified_by', 8); // name, sms, bankid, siths
    t.timestamp('identified_at', { useTz: true });
    t.string('code_hash', 64);
    t.timestamp('code_expires_at', { useTz: true });
    t.integer('code_failures').notNullable().defaultTo(0);
    t.integer('codes_sent').notNullable().defaultTo(0);
    t.timestamp('last_code_at', { useTz: true });
    t.primary(['participant_id', 'person']);
  });

  await knex.schema.createTable('guest_sessions', (t) => {
    t.string('id', 64).primary(); // sha256 of the cookie's value
    t.string('participant_id', 36).notNullable().references('id').inTable('participants').onDelete('CASCADE');
    t.string('person', 8).notNullable();
    t.string('meeting_id', 36).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.index(['participant_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('guest_sessions');
  await knex.schema.dropTableIfExists('entry_persons');
}
