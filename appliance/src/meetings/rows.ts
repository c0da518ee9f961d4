// The meetings domain's tables, row by row, as SQLite and PostgreSQL return them (db/values.ts):
// store.ts maps them to the model once, and nothing outside the domain sees them.
import type { DbBigint, DbBoolean, DbTimestamp } from '../db/values.ts';
import type { IdentificationMethod, MeetingStatus, ParticipantKind, ParticipantStatus } from './model.ts';

export interface MeetingRow {
  id: string;
  unit_id: string;
  title: string;
  starts_at: DbTimestamp;
  duration_minutes: number;
  booked_by: string;
  led_by: string;
  documentation_plan: string;
  test_meeting: DbBoolean;
  status: MeetingStatus;
  cancel_reason: string | null;
  version: number;
  created_at: DbTimestamp;
  updated_at: DbTimestamp;
  /** When its patients' keyed numbers went with the audit log's period (retention); null before. */
  patient_refs_forgotten_at?: DbTimestamp | null;
}

export interface ParticipantRow {
  id: string;
  meeting_id: string;
  /** The routine's order: the patient first. */
  position: number;
  kind: ParticipantKind;
  identification: IdentificationMethod;
  name: string;
  country: string;
  mobile: string | null;
  email: string | null;
  /** AES-256-GCM under DATA_KEY, bound to its column (store.ts). */
  personal_number_sealed: string | null;
  personal_number_masked: string | null;
  proxy_name: string | null;
  proxy_country: string | null;
  proxy_mobile: string | null;
  proxy_email: string | null;
  proxy_personal_number_sealed: string | null;
  proxy_personal_number_masked: string | null;
  /** A patient's keyed number (patientRef), kept after the number's erasure for the log extract. */
  patient_ref: string | null;
  staff_id: string | null;
  language: string;
  status: ParticipantStatus;
  added_at: DbTimestamp;
  removed_at: DbTimestamp | null;
}

export interface MeetingEventRow {
  id: DbBigint;
  meeting_id: string;
  participant_id: string | null;
  type: string;
  staff_id: string | null;
  at: DbTimestamp;
  /** The change's payload as JSON. */
  payload: string;
}
