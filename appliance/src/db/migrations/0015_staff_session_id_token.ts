// The identity provider's ID token of a staff session that began there, sealed with DATA_KEY (it
// carries the person's claims). Logout hands it back as id_token_hint, so that the provider ends
// its own session at once instead of asking whose session it is.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('staff_sessions', (t) => {
    t.text('id_token_sealed').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('staff_sessions', (t) => {
    t.dropColumn('id_token_sealed');
  });
}
