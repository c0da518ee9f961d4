// Finding a patient for a log extract: by name and personal identity number, or from a meeting.
//
// Personal numbers are stored sealed (AES-GCM, random IV), so they cannot be searched by value. We
// chose not to add a keyed hash (HMAC) column: that would be a lookup by number alone over every
// patient, and a table of birth dates × 10,000 candidates is small enough to try against a leaked
// key. Instead the masked column ("YYYYMMDD-****", kept beside every sealed number) narrows the
// candidates to people born that day, and each candidate's number is opened and compared, along
// with the name. A day's births among a hospital's meeting participants are few.
//
// A read-only report on the participants table for the admin's log extract; opening a sealed
// number goes through the store's own personalNumberOf, so the sealing context stays in one place.
import { namesMatch } from '../common/names.ts';
import type { Db } from '../db/knex.ts';
import { isPatient, type ParticipantKind } from './model.ts';
import { maskPersonalNumber } from './personal-number.ts';
import type { ParticipantRow } from './rows.ts';
import { personalNumberOf } from './store.ts';

export interface PatientRecord {
  participantId: string;
  meetingId: string;
  name: string;
  personalNumberMasked: string | null;
}

const patientKinds: ParticipantKind[] = ['patient', 'patient_proxy'];
/** The participants columns this report reads. */
const columns = ['id', 'meeting_id', 'kind', 'name', 'personal_number_masked'] as const;
type PatientRow = Pick<ParticipantRow, (typeof columns)[number]>;

const toRecord = (r: PatientRow): PatientRecord => ({
  participantId: r.id,
  meetingId: r.meeting_id,
  name: r.name,
  personalNumberMasked: r.personal_number_masked ?? null,
});

/** Every patient row (one per meeting) with this exact personal number. */
async function byNumber(db: Db, dataKey: Buffer, personalNumber: string): Promise<PatientRecord[]> {
  const candidates: PatientRow[] = await db<ParticipantRow>('participants')
    .select(...columns)
    .whereIn('kind', patientKinds)
    .andWhere('personal_number_masked', maskPersonalNumber(personalNumber));
  const found: PatientRecord[] = [];
  for (const row of candidates) {
    if ((await personalNumberOf(db, row.id, dataKey)) === personalNumber) found.push(toRecord(row));
  }
  return found;
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
  return (await byNumber(db, dataKey, personalNumber)).filter((p) => namesMatch(p.name, name));
}

/**
 * The patient of a meeting, and — when their personal number is known — the same person in every
 * other meeting. Without a number (patients invited by SMS only) the one meeting is all we can tie.
 */
export async function patientOfMeeting(db: Db, dataKey: Buffer, meetingId: string): Promise<PatientRecord[]> {
  const rows: PatientRow[] = await db<ParticipantRow>('participants')
    .select(...columns)
    .where({ meeting_id: meetingId })
    .orderBy('position');
  const patient = rows.find((r) => isPatient(r.kind));
  if (!patient) return [];
  const number = await personalNumberOf(db, patient.id, dataKey);
  if (!number) return [toRecord(patient)];
  return byNumber(db, dataKey, number);
}
