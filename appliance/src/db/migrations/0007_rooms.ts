// Each meeting's Jitsi room (a random name, nothing that identifies the patient), who was in it
// and when, occupants that matched nobody, and the five-minute rule's alerts with what staff did.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('rooms', (t) => {
    t.string('meeting_id', 36).primary().references('id').inTable('meetings').onDelete('CASCADE');
    t.string('name', 64).notNullable().unique();
    t.timestamp('opened_at', { useTz: true });
    t.timestamp('ended_at', { useTz: true });
    t.text('end_reason');
  });

  await knex.schema.createTable('room_presence', (t) => {
    t.bigIncrements('id').primary();
    t.string('meeting_id', 36).notNullable().references('id').inTable('meetings').onDelete('CASCADE');
    t.string('participant_id', 36); // null: an occupant that matched no participant (or staff)
    t.string('staff_id', 36);
    t.string('nick', 200).notNullable();
    t.string('display_name', 200);
    t.timestamp('joined_at', { useTz: true }).notNullable();
    t.timestamp('left_at', { useTz: true });
    t.string('left_reason', 16);
    t.index(['meeting_id', 'left_at']);
  });

  await knex.schema.createTable('noshow_alerts', (t) => {
    t.string('meeting_id', 36).notNullable().references('id').inTable('meetings').onDelete('CASCADE');
    t.string('participant_id', 36).notNullable();
    t.timestamp('raised_at', { useTz: true }).notNullable();
    t.string('action', 12); // called, sms_sent, dismissed
    t.string('action_by', 36);
    t.timestamp('action_at', { useTz: true });
    t.timestamp('cleared_at', { useTz: true }); // the participant joined
    t.primary(['meeting_id', 'participant_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['noshow_alerts', 'room_presence', 'rooms']) await knex.schema.dropTableIfExists(table);
}
