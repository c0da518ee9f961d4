// The meetings domain's events. Each change is recorded in meeting_events inside its transaction
// (and handed to the onChange hooks there, e.g. the invitations' outbox), then emitted on the bus
// once the transaction has committed.
import type { Knex } from 'knex';
import type { DomainEvents } from '../events.ts';
import type { ParticipantStatus } from './model.ts';

interface MeetingEventBase {
  meetingId: string;
  unitId: string;
  /** The staff member who made the change. */
  byStaffId: string;
}

declare module '../events.ts' {
  interface DomainEvents {
    'meeting.booked': MeetingEventBase & { startsAt: string; durationMinutes: number; participantIds: string[] };
    /** Every participant is told the new time. */
    'meeting.rescheduled': MeetingEventBase & {
      previousStartsAt: string;
      previousDurationMinutes: number;
      startsAt: string;
      durationMinutes: number;
      participantIds: string[];
    };
    /** Title, leader or documentation plan changed: nobody needs a new message. */
    'meeting.updated': MeetingEventBase & { fields: string[] };
    /** Everyone is told, with the reason. */
    'meeting.cancelled': MeetingEventBase & { reason: string; participantIds: string[] };
    'participant.added': MeetingEventBase & { participantId: string };
    'participant.removed': MeetingEventBase & { participantId: string };
    /** A new invitation: to everyone on the participant's row, or to `persons` (whose contact details were corrected). */
    'invitation.resend': MeetingEventBase & { participantId: string; persons?: ('main' | 'proxy')[] };
    /**
     * A participant's (or their proxy's) mobile number or e-mail address was corrected: what has not
     * gone to the old address yet is withdrawn, of the people corrected only (the patient's stay when
     * only the proxy's number changed). Those invited at another address now (`reinvited`: invitedAt)
     * lose their old links, and the invitation to the new address follows as an 'invitation.resend'
     * of the same change, to them alone; for the others only the e-mail address beside their mobile
     * number changed, and their invitation and link stand. Which people and fields changed, never
     * the addresses themselves (the payload is kept in meeting_events).
     */
    'participant.contact_changed': MeetingEventBase & {
      participantId: string;
      persons: ('main' | 'proxy')[];
      fields: ('mobile' | 'email')[];
      reinvited: ('main' | 'proxy')[];
    };
    /** The room moved the meeting on (rooms asks the meetings domain; recorded in meeting_events). */
    'meeting.status': { meetingId: string; status: 'open' | 'in_progress' | 'ended'; byStaffId: string | null };
    /** Emitted by the domains that follow a participant (invites, entry, techtest, rooms). */
    'participant.status': {
      meetingId: string;
      participantId: string;
      status: ParticipantStatus;
      /** Which of a patient and their proxy got there, where the way in knows (the connection log tells them apart). */
      person?: 'main' | 'proxy';
    };
  }
}

export const changeTypes = [
  'meeting.booked',
  'meeting.rescheduled',
  'meeting.updated',
  'meeting.cancelled',
  'participant.added',
  'participant.removed',
  'invitation.resend',
  'participant.contact_changed',
] as const;
export type ChangeType = (typeof changeTypes)[number];

/** One change to a meeting, as recorded and as emitted. */
export type MeetingChange = { [K in ChangeType]: { type: K; payload: DomainEvents[K] } }[ChangeType];

/**
 * Runs inside the change's transaction, after the meeting rows are written: what it writes
 * commits or rolls back with the change. The invitations issue registers its outbox here.
 */
export type ChangeHook = (trx: Knex.Transaction, change: MeetingChange) => Promise<void>;

/**
 * The caller's own part of one change, run in its transaction after the hooks: a request's audit
 * record of the change (`request.auditIn`), so that the change and its record commit together.
 */
export type Within = (trx: Knex.Transaction, changes: MeetingChange[]) => Promise<void>;

/** The same for a status change: `advanced` says whether the status moved (or was there already). */
export type WithinStatus = (trx: Knex.Transaction, advanced: boolean) => Promise<void>;
