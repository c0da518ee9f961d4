// Evaluations are anonymous: an answer is kept apart from who gave it. But rows keep the order they
// were written in (SQLite's rowid, PostgreSQL's ctid and the xmin of the transaction that also
// marked the respondent answered), and respondents kept the minute they answered: ordered side by
// side, the k-th to answer gave the k-th answer. The nightly retention run now rewrites the answers
// given since its last run in the order of their random ids, in one transaction (`settled`), and
// respondents keep only the day they answered (evaluation/store.ts). The answers already stored
// are rewritten by the first run.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('evaluation_responses', (t) => {
    t.boolean('settled').notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('evaluation_responses', (t) => {
    t.dropColumn('settled');
  });
}
