// Identity through the hospital's identity provider: the login and identification flows in
// progress (state and nonce, single-use and bound to one browser), and identification refusals
// that staff must see.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('oidc_flows', (t) => {
    t.string('id', 64).primary(); // sha256 of the state sent to the provider
    t.string('binding', 64).notNullable(); // sha256 of the browser's flow cookie
    t.string('purpose', 8).notNullable(); // 'staff' or 'entry'
    t.string('nonce', 64).notNullable();
    t.string('code_verifier', 128).notNullable();
    t.string('next_path', 500);
    t.string('participant_id', 36);
    t.string('person', 8);
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.index(['expires_at']);
  });

  await knex.schema.alterTable('entry_persons', (t) => {
    t.integer('identity_mismatches').notNullable().defaultTo(0);
    t.timestamp('identity_mismatch_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('entry_persons', (t) => {
    t.dropColumn('identity_mismatch_at');
    t.dropColumn('identity_mismatches');
  });
  await knex.schema.dropTableIfExists('oidc_flows');
}
