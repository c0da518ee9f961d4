// Periods without a care unit — an admin's or support's calendar of every unit, the reminders' and
// the rooms' schedules, retention's "ended before" — read meetings by start alone; the indexes of
// 0002 all lead with a unit or a person and could not serve them (a scan of every meeting).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('meetings', (t) => {
    t.index(['starts_at'], 'meetings_starts_at_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('meetings', (t) => {
    t.dropIndex(['starts_at'], 'meetings_starts_at_index');
  });
}
