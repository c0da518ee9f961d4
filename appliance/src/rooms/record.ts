// The meeting record (the routine's step 9): who was in the meeting's room, when and for how long —
// what each party documents in its own routines; never clinical notes. It is made from the room's
// presence records (each join and leave as Prosody reported it), which are kept with the meeting.
import type { Meeting, Participant } from '../meetings/index.ts';
import type { Presence } from './store.ts';

/** Who someone in the room was to the meeting. */
export type AttendeeRole = 'patient' | 'proxy' | 'guest' | 'colleague' | 'leader' | 'host' | 'staff' | 'unknown';

export interface Span {
  from: Date;
  /** null: still in the room. */
  to: Date | null;
}

export interface AttendeeRecord {
  name: string;
  role: AttendeeRole;
  participantId: string | null;
  staffId: string | null;
  /** Taken off the meeting after they had been in the room: named as they were invited, and marked so. */
  removed: boolean;
  /** Their time in the room: overlapping presences (two tabs, a rejoin before the leave was seen) joined. */
  spans: Span[];
  minutes: number;
}

export interface MeetingRecord {
  /**
   * Whether the appliance records who is in the room: false without XMPP_* (it is not connected to
   * the meeting server); then nobody in the record says nothing of who came, and nobody is absent.
   */
  presenceRecorded: boolean;
  /** The first join; undefined when nobody came into the room. */
  heldFrom?: Date;
  /** The last leave; null while someone is still in the room. */
  heldTo?: Date | null;
  minutes: number;
  /** In the order they first came in. */
  attendees: AttendeeRecord[];
  /** The invited participants nobody of came into the room (those removed from the meeting are not invited). */
  absent: { participantId: string; name: string; role: AttendeeRole }[];
}

const participantRole = (p: Participant): AttendeeRole =>
  p.kind === 'guest' ? 'guest' : p.kind === 'colleague' ? 'colleague' : 'patient';

/** The meeting as the record reads it: `removed`, the participants taken off it (names and kinds are all it reads of them). */
export type RecordedMeeting = Pick<Meeting, 'ledBy' | 'bookedBy' | 'participants'> & { removed?: Participant[] };

function staffRole(meeting: RecordedMeeting, staffId: string): AttendeeRole {
  if (meeting.ledBy === staffId) return 'leader';
  if ([...meeting.participants, ...(meeting.removed ?? [])].some((p) => p.staffId === staffId)) return 'colleague';
  return meeting.bookedBy === staffId ? 'host' : 'staff';
}

/** Spans sorted and joined where they overlap or touch. */
function joined(spans: Span[], now: Date): Span[] {
  const out: Span[] = [];
  for (const span of [...spans].sort((a, b) => a.from.getTime() - b.from.getTime())) {
    const last = out.at(-1);
    if (last && span.from.getTime() <= (last.to ?? now).getTime()) {
      if (last.to !== null && (span.to === null || span.to > last.to)) last.to = span.to;
    } else out.push({ ...span });
  }
  return out;
}

const minutesOf = (spans: Span[], now: Date): number =>
  Math.round(spans.reduce((ms, s) => ms + ((s.to ?? now).getTime() - s.from.getTime()), 0) / 60_000);

/**
 * The record of a meeting from its presences. `staffName` names a staff member by id (the record
 * names people as the meeting knows them: a participant by the name they were invited with, one
 * removed from the meeting since too). `presenceRecorded`: false where the appliance records none.
 */
export function meetingRecord(
  meeting: RecordedMeeting,
  presence: Presence[],
  staffName: (staffId: string) => string | undefined,
  now = new Date(),
  { presenceRecorded = true }: { presenceRecorded?: boolean } = {},
): MeetingRecord {
  const removed = new Set((meeting.removed ?? []).map((p) => p.id));
  const everyone = [...meeting.participants, ...(meeting.removed ?? [])];
  const removedStaff = new Set(
    (meeting.removed ?? []).flatMap((p) =>
      p.staffId && !meeting.participants.some((q) => q.staffId === p.staffId) ? [p.staffId] : [],
    ),
  );
  const people = new Map<string, Omit<AttendeeRecord, 'minutes'>>();
  for (const x of presence) {
    const participant = x.participantId ? everyone.find((p) => p.id === x.participantId) : undefined;
    const proxy = participant?.proxy && x.person === 'proxy' ? participant.proxy : undefined;
    const key = x.staffId
      ? `staff:${x.staffId}`
      : participant
        ? `participant:${participant.id}:${proxy ? 'proxy' : 'main'}`
        : `other:${x.displayName ?? x.nick}`;
    const person = people.get(key) ?? {
      name: x.staffId
        ? (staffName(x.staffId) ?? x.displayName ?? x.nick)
        : proxy
          ? proxy.name
          : (participant?.name ?? x.displayName ?? x.nick),
      role: x.staffId
        ? staffRole(meeting, x.staffId)
        : proxy
          ? 'proxy'
          : participant
            ? participantRole(participant)
            : 'unknown',
      participantId: participant?.id ?? null,
      staffId: x.staffId,
      removed: x.staffId ? removedStaff.has(x.staffId) : participant ? removed.has(participant.id) : false,
      spans: [],
    };
    person.spans.push({ from: x.joinedAt, to: x.leftAt });
    people.set(key, person);
  }
  const attendees = [...people.values()]
    .map((a) => {
      const spans = joined(a.spans, now);
      return { ...a, spans, minutes: minutesOf(spans, now) };
    })
    .sort((a, b) => a.spans[0]!.from.getTime() - b.spans[0]!.from.getTime());
  const came = new Set(attendees.flatMap((a) => (a.participantId ? [a.participantId] : [])));
  const cameStaff = new Set(attendees.flatMap((a) => (a.staffId ? [a.staffId] : [])));
  // Where nobody's presence is recorded, nobody is known to be absent.
  const absent =
    presenceRecorded || attendees.length > 0
      ? meeting.participants
          .filter((p) => !came.has(p.id) && !(p.staffId && cameStaff.has(p.staffId)))
          .map((p) => ({ participantId: p.id, name: p.name, role: participantRole(p) }))
      : [];
  const held = joined(
    attendees.flatMap((a) => a.spans),
    now,
  );
  if (held.length === 0) return { presenceRecorded, minutes: 0, attendees, absent };
  const open = held.some((s) => s.to === null);
  const heldFrom = held[0]!.from;
  const heldTo = open ? null : held.at(-1)!.to;
  return {
    presenceRecorded,
    heldFrom,
    heldTo,
    minutes: Math.round(((heldTo ?? now).getTime() - heldFrom.getTime()) / 60_000),
    attendees,
    absent,
  };
}
