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

/**
 * Client events that mean something went wrong. A reconnect is one: the meeting page lost the
 * meeting and had to join it again, which is what support is asked about ("the picture froze").
 */
const clientErrors: readonly ClientEventType[] = [
  'cameraError',
  'micError',
  'errorOccurred',
  'peerConnectionFailure',
  'suspendDetected',
  'reconnect',
];

/**
 * Why someone left the room (rooms/xmpp.ts's LeaveReason) where it was a failure, not a choice:
 * the meeting server ended their session for them (a lost connection) or let them out after an
 * error. A hang-up, a kick, the room closed or the meeting ended are not.
 */
const failedLeaves = ['disconnected', 'error'];

/**
 * What support reads as a problem - the support page's "only errors", the errors counted in its
 * search, an entry's `error` - in this one place. It is judged when an entry is read, from its type
 * and details, never stored with it: entries written before the rule last changed (an old lost
 * connection, an old reconnect) are judged by the rule of today. store.ts asks the same of the
 * database (`problemRule`).
 */
export const problemRule: {
  /** Entry types that are problems whatever their details. */
  types: readonly string[];
  /** Entry types that are problems when one detail has one of these values. */
  byDetail: readonly { type: string; key: string; values: readonly string[] }[];
} = {
  types: [
    ...clientErrors.map((type) => `client_${type}`),
    // A message the gateway or relay gave up on.
    'message_failed',
    // Refused on the way in: a wrong name or code, the link locked or used, someone else came back from BankID.
    'name_failed',
    'code_failed',
    'link_locked',
    'link_refused',
    'identity_mismatch',
    // Still not in the room five minutes after the start.
    'noshow_alert',
  ],
  byDetail: [
    { type: 'left', key: 'leave', values: failedLeaves },
    { type: 'techtest', key: 'verdict', values: ['failed'] },
  ],
};

const problemTypes: ReadonlySet<string> = new Set(problemRule.types);

export function isProblem(entry: { type: string; details: Details }): boolean {
  if (problemTypes.has(entry.type)) return true;
  return problemRule.byDetail.some(
    (rule) =>
      rule.type === entry.type &&
      typeof entry.details[rule.key] === 'string' &&
      rule.values.includes(entry.details[rule.key] as string),
  );
}

export type Details = Record<string, string | number | boolean | null>;

export interface NewEntry {
  at: Date;
  meetingId: string;
  participantId: string | null;
  type: string;
  details: Details;
  /** What the entry is about, when one event can arrive twice (a message id, a result id). */
  ref?: string;
}

export interface LogEntry extends Omit<NewEntry, 'ref'> {
  id: number;
  /** Whether support reads it as a problem (isProblem), judged when it was read. */
  error: boolean;
}
