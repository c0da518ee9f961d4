// The audit log (Patientdatalagen): who did what to which meeting or participant, when, from where.
// Rows are only ever inserted by the application.
import type { Db } from '../db/knex.ts';
import { iso, toDate } from '../db/values.ts';

export interface AuditTarget {
  targetType?: string;
  targetId?: string;
  meetingId?: string;
  participantId?: string;
  details?: Record<string, unknown>;
}

export interface AuditEntry extends AuditTarget {
  action: string;
  staffId?: string | null;
  staffRole?: string | null;
  unitId?: string | null;
  ip?: string | null;
}

export interface AuditRecord extends AuditEntry {
  id: number;
  at: Date;
}

export async function insertAudit(db: Db, entry: AuditEntry, at = new Date()): Promise<void> {
  await db('audit_log').insert({
    at: iso(at),
    staff_id: entry.staffId ?? null,
    staff_role: entry.staffRole ?? null,
    unit_id: entry.unitId ?? null,
    action: entry.action,
    target_type: entry.targetType ?? null,
    target_id: entry.targetId ?? null,
    meeting_id: entry.meetingId ?? null,
    participant_id: entry.participantId ?? null,
    ip: entry.ip ?? null,
    details: entry.details ? JSON.stringify(entry.details) : null,
  });
}

export interface AuditQuery {
  staffId?: string;
  action?: string;
  meetingId?: string;
  participantId?: string;
  from?: Date;
  to?: Date;
  limit?: number;
}

export async function findAudit(db: Db, query: AuditQuery): Promise<AuditRecord[]> {
  const q = db('audit_log').orderBy('id', 'desc').limit(query.limit ?? 200);
  if (query.staffId) q.where('staff_id', query.staffId);
  if (query.action) q.where('action', query.action);
  if (query.meetingId) q.where('meeting_id', query.meetingId);
  if (query.participantId) q.where('participant_id', query.participantId);
  if (query.from) q.where('at', '>=', iso(query.from));
  if (query.to) q.where('at', '<', iso(query.to));
  const rows = await q;
  return rows.map((r) => ({
    id: Number(r.id),
    at: toDate(r.at),
    staffId: r.staff_id,
    staffRole: r.staff_role,
    unitId: r.unit_id,
    action: r.action,
    targetType: r.target_type ?? undefined,
    targetId: r.target_id ?? undefined,
    meetingId: r.meeting_id ?? undefined,
    participantId: r.participant_id ?? undefined,
    ip: r.ip,
    details: r.details ? JSON.parse(r.details) : undefined,
  }));
}
