// Finding a patient for a log extract: by name and personal identity number, or from a meeting.
//
// Personal numbers are stored sealed (AES-GCM, random IV), so they cannot be searched by value, and
// retention erases them 90 days after the meeting (RETENTION_CONTACTS_DAYS) while the audit log,
// and with it the patient's right to an extract (Patientdatalagen), lasts ten years. A patient's row
// therefore keeps a keyed hash of the number (`patient_ref`, store.ts's patientRef): the extract
// looks the patient up by it, also after the number is gone, and both the number and the name
// must match, so that nobody can fish by number alone. The hash is pseudonymised personal data
// kept for the audit log's purpose and period only: whoever holds DATA_KEY can test guesses
// against it (as they can open the sealed numbers); it goes when the audit log's period has passed
// (admin/retention.ts).
//
// A read-only report on the participants table for the admin's log extract.
import { namesMatch } from '../common/names.ts';
import type { Db } from '../db/knex.ts';
import { isPatient, type ParticipantKind } from './model.ts';
import { maskPersonalNumber } from './personal-number.ts';
import type { ParticipantRow } from './rows.ts';
import { patientRef } from './store.ts';

export interface PatientRecord {
  participantId: string;
  meetingId: string;
  name: string;
  personalNumberMasked: string | null;
}

const patientKinds: ParticipantKind[] = ['patient', 'patient_proxy'];
/** The participants columns this report reads. */
const columns = ['id', 'meeting_id', 'kind', 'name', 'personal_number_masked', 'patient_ref'] as const;
type PatientRow = Pick<ParticipantRow, (typeof columns)[number]>;

const toRecord = (r: PatientRow): PatientRecord => ({
  participantId: r.id,
  meetingId: r.meeting_id,
  name: r.name,
  personalNumberMasked: r.personal_number_masked ?? null,
});

/** Every patient row (one per meeting) with this keyed personal number, its number erased or not. */
async function byRef(db: Db, ref: string, personalNumber?: string): Promise<PatientRecord[]> {
  const rows: PatientRow[] = await db<ParticipantRow>('participants')
    .select(...columns)
    .whereIn('kind', patientKinds)
    .andWhere('patient_ref', ref);
  // The number searched by stands in for one retention erased (masked, as every staff screen shows it).
  const masked = personalNumber
    ? maskPersonalNumber(personalNumber)
    : rows.find((r) => r.personal_number_masked)?.personal_number_masked;
  return rows.map((r) => ({ ...toRecord(r), personalNumberMasked: r.personal_number_masked ?? masked ?? null }));
}

/**
 * The patient's rows across all their meetings, found by a normalised personal number
 * (YYYYMMDDNNNC) and the name: both must match, so that nobody can fish by number alone.
 */
export async function findPatient(
  db: Db,
  dataKey: Buffer,
  name: string,
  personalNumber: string,
): Promise<PatientRecord[]> {
  return (await byRef(db, patientRef(dataKey, personalNumber), personalNumber)).filter((p) => namesMatch(p.name, name));
}

/**
 * The patient of a meeting, and — when their personal number was recorded — the same person in
 * every other meeting. Without a number (patients invited by SMS only) the one meeting is all we can tie.
 */
export async function patientOfMeeting(db: Db, meetingId: string): Promise<PatientRecord[]> {
  const rows: PatientRow[] = await db<ParticipantRow>('participants')
    .select(...columns)
    .where({ meeting_id: meetingId })
    .orderBy('position');
  const patient = rows.find((r) => isPatient(r.kind));
  if (!patient) return [];
  if (!patient.patient_ref) return [toRecord(patient)];
  return byRef(db, patient.patient_ref);
}
