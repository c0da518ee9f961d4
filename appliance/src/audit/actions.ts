// Every action the audit log records, by name. Requests can record only these, and each has words
// for the viewer and the patient's log extract (admin/locales/*/admin.json, `admin.action.<name>`),
// so an admin never reads a code.
export const auditActions = [
  // Signing in and out.
  'login',
  'login.failed',
  'login.locked',
  'logout',
  'password.change',
  // Meetings and their participants.
  'meeting.list',
  'meeting.read',
  'meeting.book',
  'meeting.update',
  'meeting.cancel',
  'meeting.denied',
  'participant.add',
  'participant.remove',
  'participant.contact',
  'invitation.resend',
  'meeting.entry.read',
  'meeting.messages.read',
  // The meeting room and the five-minute rule.
  'meeting.room.open',
  'meeting.room.read',
  'meeting.record.read',
  'meeting.noshow',
  'meeting.kick',
  'meeting.end',
  // Participants identifying themselves.
  'entry.identified',
  'entry.identify.failed',
  'entry.identify.mismatch',
  // Messages, evaluations, connection logs.
  'outbox.read',
  'evaluation.offer',
  'evaluation.report',
  'evaluation.set.edit',
  'connlog.search',
  'connlog.read',
  'connlog.export',
  // Administration.
  'staff.add',
  'staff.update',
  'staff.disable',
  'staff.enable',
  'staff.password_reset',
  'staff.provisioned',
  'token.create',
  'token.revoke',
  'unit.add',
  'unit.update',
  'status.read',
  'audit.search',
  'audit.extract',
  'audit.purge',
  'retention.purge',
  'privacy.lookup',
  'privacy.export',
  'privacy.erase',
] as const;

export type AuditAction = (typeof auditActions)[number];
