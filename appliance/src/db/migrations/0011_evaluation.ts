// Evaluation: versioned question sets (a new version per edit; answers point at the version they
// answered), who was asked (for the response rate and the one-answer rule), and the answers —
// kept apart from who gave them, so that no report can tie an answer to a person.
import type { Knex } from 'knex';

// The predetermined questions the project ships (the routine: "all participants and staff are
// given the opportunity to evaluate the meeting with predetermined questions"). One set per role,
// the same questions for all; admins edit a unit's copy, which becomes a new version. Written
// out here rather than imported: a migration must seed the same rows whatever the code becomes.
export const defaultQuestions = [
  {
    id: 'sound_picture',
    type: 'scale',
    text: { sv: 'Hur fungerade ljud och bild?', en: 'How did sound and picture work?' },
  },
  {
    id: 'could_say',
    type: 'scale',
    text: { sv: 'Kunde du säga det du ville under mötet?', en: 'Could you say what you wanted during the meeting?' },
  },
  {
    id: 'digital_suited',
    type: 'yes_no',
    text: { sv: 'Passade ett digitalt möte för det här syftet?', en: 'Did a digital meeting suit this purpose?' },
  },
  {
    id: 'comment',
    type: 'text',
    text: { sv: 'Vill du berätta något mer?', en: 'Anything else you would like to tell us?' },
  },
];

const roles = ['patient', 'proxy', 'colleague', 'guest', 'staff'];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('evaluation_sets', (t) => {
    t.string('id', 36).primary();
    t.string('unit_id', 36); // null: the default set shipped with the project
    t.string('role', 16).notNullable();
    t.integer('version').notNullable();
    t.text('questions').notNullable();
    t.string('created_by', 36);
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.index(['unit_id', 'role', 'version']);
  });

  await knex.schema.createTable('evaluation_respondents', (t) => {
    t.string('id', 36).primary();
    t.string('meeting_id', 36).notNullable();
    t.string('unit_id', 36).notNullable();
    // 'p:<participant>:<main|proxy>' or 's:<staff>': one answer per person and meeting.
    t.string('subject', 80).notNullable();
    t.string('role', 16).notNullable();
    t.timestamp('meeting_at', { useTz: true }).notNullable();
    t.string('token_hash', 64).unique();
    t.timestamp('expires_at', { useTz: true });
    t.timestamp('requested_at', { useTz: true });
    t.timestamp('answered_at', { useTz: true });
    t.unique(['meeting_id', 'subject']);
    t.index(['unit_id', 'meeting_at']);
  });

  await knex.schema.createTable('evaluation_responses', (t) => {
    t.string('id', 36).primary();
    t.string('set_id', 36).notNullable().references('id').inTable('evaluation_sets');
    t.string('unit_id', 36).notNullable();
    t.string('role', 16).notNullable();
    // The meeting's day only: no meeting, person or exact time that could identify the respondent.
    t.string('meeting_on', 10).notNullable();
    t.text('answers').notNullable();
    t.index(['unit_id', 'meeting_on']);
  });

  const now = new Date().toISOString();
  for (const role of roles) {
    await knex('evaluation_sets').insert({
      id: `default-${role}-1`,
      unit_id: null,
      role,
      version: 1,
      questions: JSON.stringify(defaultQuestions),
      created_by: null,
      created_at: now,
    });
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['evaluation_responses', 'evaluation_respondents', 'evaluation_sets'])
    await knex.schema.dropTableIfExists(table);
}
