// The rows of the audit viewer and of a patient's log extract: each record with the staff member's
// name, HSA-ID and care unit as a person reads them, and the same rows as CSV.
import type { AuditRecord } from '../audit/index.ts';
import type { Db } from '../db/knex.ts';
import { forExcel, toCsv } from '../common/csv.ts';
import { t, type Language } from '../http/i18n.ts';
import { toClinicTime } from '../common/clock.ts';
import type { Staff } from '../staff/index.ts';
import { findStaff, listUnits } from '../staff/index.ts';
import { meetingLabels } from '../meetings/index.ts';

export interface AccessRow {
  id: number;
  /** Clinic time, "2026-11-25 14:05". */
  when: string;
  at: string;
  staffName: string;
  hsaId: string;
  unitName: string;
  role: string;
  action: string;
  actionText: string;
  meetingId: string;
  /** The meeting's title and start on the clinic's clock; empty once the meeting is erased. */
  meetingLabel: string;
  participantId: string;
  ip: string;
}

export const clinicTime = (at: Date): string => {
  const { date, time } = toClinicTime(at);
  return `${date} ${time}`;
};

/** An action's words in the UI language; an action without a label shows its code. */
export function actionText(lang: Language, action: string): string {
  const key = `admin.action.${action}`;
  const text = t(lang, key);
  return text === key ? action : text;
}

const labelOf = (meeting: { title: string; startsAt: Date } | undefined): string =>
  meeting ? `${meeting.title}, ${clinicTime(meeting.startsAt)}` : '';

export async function describeRecords(db: Db, lang: Language, records: AuditRecord[]): Promise<AccessRow[]> {
  const units = new Map((await listUnits(db)).map((u) => [u.id, u.name]));
  // An id alone tells a person reviewing the log nothing: the row names the meeting as staff know it.
  const meetings = await meetingLabels(
    db,
    records.flatMap((r) => (r.meetingId ? [r.meetingId] : [])),
  );
  const staff = new Map<string, Staff | undefined>();
  for (const id of new Set(records.map((r) => r.staffId).filter((id): id is string => !!id))) {
    staff.set(id, await findStaff(db, { id }));
  }
  return records.map((r) => {
    const who = r.staffId ? staff.get(r.staffId) : undefined;
    return {
      id: r.id,
      when: clinicTime(r.at),
      at: r.at.toISOString(),
      staffName: who?.name ?? (r.staffId ? r.staffId : t(lang, 'admin.audit.anonymous')),
      hsaId: who?.hsaId ?? '',
      // The unit recorded at the time of access, not the person's unit today.
      unitName: (r.unitId && units.get(r.unitId)) || '',
      role: r.staffRole ? t(lang, `role.${r.staffRole}`) : '',
      action: r.action,
      actionText: actionText(lang, r.action),
      meetingId: r.meetingId ?? '',
      meetingLabel: labelOf(r.meetingId ? meetings.get(r.meetingId) : undefined),
      participantId: r.participantId ?? '',
      ip: r.ip ?? '',
    };
  });
}

/**
 * CSV for a spreadsheet: UTF-8 with a byte-order mark and semicolons, as Excel with Swedish settings
 * opens it. A cell starting with = + - @ is prefixed with ' so that no formula runs.
 */
export function extractCsv(lang: Language, rows: AccessRow[]): string {
  const header = ['when', 'staff', 'hsaId', 'unit', 'role', 'action', 'meeting', 'meetingLabel', 'participant'].map(
    (k) => t(lang, `admin.extract.csv.${k}`),
  );
  const cells = rows.map((r) => [
    r.when,
    r.staffName,
    r.hsaId,
    r.unitName,
    r.role,
    r.actionText,
    r.meetingId,
    r.meetingLabel,
    r.participantId,
  ]);
  return toCsv(header, cells, forExcel);
}
