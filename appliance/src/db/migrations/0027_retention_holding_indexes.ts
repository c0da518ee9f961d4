// The daily retention run asks only for what still holds personal data, not for every meeting ever
// held: the participants that still hold contact data and the messages that still hold a
// recipient, each by a partial index on the meeting (the period counts from its end) holding only
// those rows: erased rows leave it, so it keeps the period's rows (and the bookings ahead), never
// the years behind. Both engines take the same statement; the predicate is written as the stores
// ask (meetings/store.ts, invites/outbox.ts), so that SQLite sees that the query implies it.
//
// The patients' keyed numbers (patient_ref) are kept ten years, so the rows still holding one are
// ten years of patients: the meeting says instead when its patients' numbers went
// (`patient_refs_forgotten_at`), and the meetings not yet done are found by their start through a
// partial index of those alone. The meetings already held start unmarked: the first run marks
// those past the ten years, a batch at a time.
import type { Knex } from 'knex';

const indexes = {
  participants_holding_contacts_index: [
    'participants',
    `mobile is not null or email is not null or personal_number_sealed is not null or personal_number_masked is not null
     or proxy_mobile is not null or proxy_email is not null or proxy_personal_number_sealed is not null
     or proxy_personal_number_masked is not null`,
  ],
  outbox_messages_holding_recipient_index: ['outbox_messages', `recipient <> ''`],
} as const;

export async function up(knex: Knex): Promise<void> {
  for (const [name, [table, predicate]] of Object.entries(indexes))
    await knex.raw(`create index ${name} on ${table} (meeting_id) where ${predicate}`);
  await knex.schema.alterTable('meetings', (t) => {
    t.timestamp('patient_refs_forgotten_at', { useTz: true });
  });
  await knex.raw(
    'create index meetings_patient_refs_kept_index on meetings (starts_at) where patient_refs_forgotten_at is null',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index meetings_patient_refs_kept_index');
  await knex.schema.alterTable('meetings', (t) => {
    t.dropColumn('patient_refs_forgotten_at');
  });
  for (const name of Object.keys(indexes)) await knex.raw(`drop index ${name}`);
}
