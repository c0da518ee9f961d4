// Meetings, their participants, and the record of every change (meeting_events), which the
// invitations' outbox reads in the same transaction.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('meetings', (t) => {
    t.string('id', 36).primary();
    t.string('unit_id', 36).notNullable().references('id').inTable('care_units');
    t.string('title', 200).notNullable();
    t.timestamp('starts_at', { useTz: true }).notNullable();
    t.integer('duration_minutes').notNullable();
    t.string('booked_by', 36).notNullable().references('id').inTable('staff');
    t.string('led_by', 36).notNullable().references('id').inTable('staff');
    t.text('documentation_plan').notNullable();
    t.boolean('test_meeting').notNullable().defaultTo(false);
    t.string('status', 16).notNullable();
    t.text('cancel_reason');
    t.integer('version').notNullable().defaultTo(1);
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    // The calendar asks for a unit's (or a clinician's) meetings in a period.
    t.index(['unit_id', 'starts_at']);
    t.index(['booked_by', 'starts_at']);
    t.index(['led_by', 'starts_at']);
  });

  await knex.schema.createTable('participants', (t) => {
    t.string('id', 36).primary();
    t.string('meeting_id', 36).notNullable().references('id').inTable('meetings').onDelete('CASCADE');
    t.integer('position').notNullable(); // the routine's order: the patient first
    t.string('kind', 16).notNullable();
    t.string('identification', 8).notNullable();
    t.string('name', 200).notNullable();
    t.string('country', 2).notNullable();
    t.string('mobile', 20);
    t.string('email', 254);
    t.text('personal_number_sealed'); // AES-256-GCM under DATA_KEY
    t.string('personal_number_masked', 16);
    t.string('proxy_name', 200);
    t.string('proxy_country', 2);
    t.string('proxy_mobile', 20);
    t.string('proxy_email', 254);
    t.text('proxy_personal_number_sealed');
    t.string('proxy_personal_number_masked', 16);
    t.string('staff_id', 36).references('id').inTable('staff');
    t.string('status', 16).notNullable();
    t.timestamp('added_at', { useTz: true }).notNullable();
    // Removed participants stay in the meeting's record (who was invited, when) but leave the list.
    t.timestamp('removed_at', { useTz: true });
    t.index(['meeting_id', 'position']);
    t.index(['staff_id']);
  });

  await knex.schema.createTable('meeting_events', (t) => {
    t.bigIncrements('id').primary();
    t.string('meeting_id', 36).notNullable().references('id').inTable('meetings').onDelete('CASCADE');
    t.string('participant_id', 36);
    t.string('type', 32).notNullable();
    t.string('staff_id', 36);
    t.timestamp('at', { useTz: true }).notNullable();
    t.text('payload').notNullable();
    t.index(['meeting_id', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['meeting_events', 'participants', 'meetings']) {
    await knex.schema.dropTableIfExists(table);
  }
}
