// A staff session also ends after a spell without the person's activity (SESSION_IDLE_MINUTES): a
// clinician who walks away from a shared ward computer is logged out there. `seen_at` is the last
// request the person made in it (written at most once a minute); a session begun before counts as
// seen at its start.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('staff_sessions', (t) => {
    t.timestamp('seen_at', { useTz: true }).nullable();
  });
  await knex('staff_sessions').update({ seen_at: knex.ref('created_at') });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('staff_sessions', (t) => {
    t.dropColumn('seen_at');
  });
}
