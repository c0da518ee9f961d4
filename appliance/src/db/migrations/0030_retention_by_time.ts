// The nightly retention run's other reads, each through an index of what it asks for rather than
// the whole table: evaluation answers and respondents past their period by the meeting's day and
// time (their indexes begin with the unit, which SQLite cannot use for the day alone), tech test
// results by when they were taken (likewise behind the subject), and the answers given since the
// last run (settleAnswers) by a partial index of those alone: the rest of two years' answers are
// settled. The predicate is written as evaluation/store.ts asks, so that SQLite sees that the
// query implies it.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('evaluation_responses', (t) => {
    t.index(['meeting_on'], 'evaluation_responses_meeting_on_index');
  });
  await knex.schema.alterTable('evaluation_respondents', (t) => {
    t.index(['meeting_at'], 'evaluation_respondents_meeting_at_index');
  });
  await knex.schema.alterTable('techtest_results', (t) => {
    t.index(['tested_at'], 'techtest_results_tested_at_index');
  });
  await knex.raw(
    'create index evaluation_responses_unsettled_index on evaluation_responses (id) where settled = false',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index evaluation_responses_unsettled_index');
  await knex.schema.alterTable('techtest_results', (t) => {
    t.dropIndex(['tested_at'], 'techtest_results_tested_at_index');
  });
  await knex.schema.alterTable('evaluation_respondents', (t) => {
    t.dropIndex(['meeting_at'], 'evaluation_respondents_meeting_at_index');
  });
  await knex.schema.alterTable('evaluation_responses', (t) => {
    t.dropIndex(['meeting_on'], 'evaluation_responses_meeting_on_index');
  });
}
