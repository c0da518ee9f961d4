// The patient's log extract (Patientdatalagen) is owed for as long as the audit log keeps the
// accesses (ten years), but retention erases a patient's personal identity number 90 days after
// the meeting (RETENTION_CONTACTS_DAYS). `patient_ref` is a keyed hash (HMAC-SHA256 under a key
// derived from DATA_KEY) of the patient's number: retention and erasure leave it, so the extract
// still finds the patient's older meetings by the number; it goes with the audit log's period.
// Rows booked before this migration get theirs at the next start (meetings/index.ts): the sealed
// numbers can only be opened with DATA_KEY, which a migration does not have.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('participants', (t) => {
    t.string('patient_ref', 64);
    t.index(['patient_ref'], 'participants_patient_ref_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('participants', (t) => {
    t.dropIndex(['patient_ref'], 'participants_patient_ref_index');
    t.dropColumn('patient_ref');
  });
}
