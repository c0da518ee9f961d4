// Connection log entries as the rest of the appliance sees them (rows are mapped once, in store.ts).
// An entry keeps its type and structured details; the human sentence is rendered when read, in
// the reader's language (sentences.ts).

/** The IFrame API events that tell support what happened to a connection: the meeting page forwards them. */
export const forwardedJitsiEvents = [
  'videoConferenceJoined',
  'videoConferenceLeft',
  'participantJoined',
  'participantLeft',
  'cameraError',
  'micError',
  'errorOccurred',
  'peerConnectionFailure',
  'suspendDetected',
] as const;

/**
 * What the meeting page posts: those events, leaving, and a reconnect - Jitsi joining the meeting
 * again on the same page after it had joined before (its page in the frame reloaded after a lost
 * connection or a failed conference), reported in place of that second videoConferenceJoined.
 */
export const clientEventTypes = [...forwardedJitsiEvents, 'readyToClose', 'reconnect'] as const;
export type ClientEventType = (typeof clientEventTypes)[number];

/** Client events that mean something went wrong: the support page's "only errors". */
export const clientErrors: readonly ClientEventType[] = [
  'cameraError',
  'micError',
  'errorOccurred',
  'peerConnectionFailure',
  'suspendDetected',
];

/**
 * Why someone left the room (rooms/xmpp.ts's LeaveReason) where it was a failure, not a choice:
 * the meeting server ended their session for them (a lost connection) or let them out after an
 * error. A hang-up, a kick, the room closed or the meeting ended are not.
 */
const failedLeaves: ReadonlySet<string> = new Set(['disconnected', 'error']);

export const leaveFailed = (reason: string | undefined): boolean => failedLeaves.has(reason ?? '');

export type Details = Record<string, string | number | boolean | null>;

export interface NewEntry {
  at: Date;
  meetingId: string;
  participantId: string | null;
  type: string;
  error: boolean;
  details: Details;
  /** What the entry is about, when one event can arrive twice (a message id, a result id). */
  ref?: string;
}

export interface LogEntry extends Omit<NewEntry, 'ref'> {
  id: number;
}
