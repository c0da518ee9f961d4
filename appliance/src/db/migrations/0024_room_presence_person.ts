// Which of a patient and their proxy a presence in the room is ('main' or 'proxy'), where the way
// in tells (the token of their own link, or their name): the connection log's joined and left
// entries then say whose visit it was, and each person's privacy export holds their own. Null for
// staff, for those not recognised, and for visits recorded before.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('room_presence', (t) => {
    t.string('person', 8).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('room_presence', (t) => {
    t.dropColumn('person');
  });
}
