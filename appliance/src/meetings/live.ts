// Live updates for open calendars and meeting pages: meeting changes and participant status,
// pushed over SSE to the pages that show the meeting (by meeting id; a calendar by care unit and,
// for a clinician, by the staff named on the meeting: the calendar lists their own meetings in any
// unit). What is published goes out as the event 'meeting.live', which every appliance process
// follows: a page is live whichever process the browser reached.
import type { EventBus } from '../events.ts';
import type { EventStream } from '../http/sse.ts';
import { changeTypes, type ChangeType } from './events.ts';
import type { MeetingAudience } from './store.ts';
import type { Remembered } from './units.ts';

export interface LiveMessage {
  type: string;
  meetingId: string;
  participantId?: string;
  status?: string;
}

declare module '../events.ts' {
  interface DomainEvents {
    /** A change a meeting page or calendar shows, already resolved to whose calendars show it. */
    'meeting.live': LiveMessage & MeetingAudience;
  }
}

/**
 * Changes after which a person may no longer read the meeting: a colleague removed from it, a
 * leader from another unit replaced. A meeting page's stream checks its access again (http/sse.ts).
 */
export const accessChanges = ['participant.removed', 'meeting.updated'] as const satisfies readonly ChangeType[];

/** Changes after which other staff may be named on the meeting: a colleague added, the leader replaced. */
const audienceChanges: readonly string[] = ['participant.added', 'meeting.updated'] satisfies ChangeType[];

interface Subscriber {
  stream: EventStream;
  meetingId?: string;
  unitId?: string;
  /** A clinician's calendar: their own meetings in other units too (booked, led, taken part in). */
  staffId?: string;
  /** Admins and support see every unit's calendar. */
  allUnits?: boolean;
}

export class LiveUpdates {
  readonly #subscribers = new Set<Subscriber>();
  readonly #bus: EventBus;

  /**
   * `audienceOf` finds whose calendars show a meeting (its unit, the staff named on it), for events
   * that do not say; it is told to forget a meeting whose staff may have changed.
   */
  constructor(bus: EventBus, audienceOf: Remembered<MeetingAudience>) {
    this.#bus = bus;
    bus.follow('meeting.live', ({ unitId, staffIds, ...message }) => {
      // Changed on any process: what this one remembers of its staff is old now.
      if (audienceChanges.includes(message.type)) audienceOf.forget(message.meetingId);
      this.#deliver({ unitId, staffIds }, message);
    });
    for (const type of changeTypes) {
      bus.on(type, async (payload) => {
        const { meetingId, unitId, participantId } = payload as {
          meetingId: string;
          unitId: string;
          participantId?: string;
        };
        // The staff named before the change are told too: a leader replaced drops it from their calendar.
        const before = audienceOf.known(meetingId)?.staffIds ?? [];
        if (audienceChanges.includes(type)) audienceOf.forget(meetingId);
        const after = (await audienceOf(meetingId))?.staffIds ?? [];
        this.publish({ unitId, staffIds: [...new Set([...before, ...after])] }, { type, meetingId, participantId });
      });
    }
    // What other domains learn about a participant (a message failed, a link locked, someone
    // missing after five minutes) changes the facts and marks that meeting pages and calendars show;
    // the room moving the meeting on (open, in progress, ended) its status, and the page's links
    // (into the room, "Utvärdera mötet", that it has ended).
    for (const type of [
      'meeting.status',
      'outbox.status',
      'entry.locked',
      'entry.identity_mismatch',
      'noshow.alert',
      'noshow.action',
      'noshow.cleared',
    ] as const) {
      bus.on(type, async (payload) => {
        const { meetingId, participantId } = payload as { meetingId: string | null; participantId?: string | null };
        if (meetingId)
          this.publish((await audienceOf(meetingId)) ?? { unitId: '', staffIds: [] }, {
            type,
            meetingId,
            participantId: participantId ?? undefined,
          });
      });
    }
  }

  /**
   * Follows one meeting (the meeting page), or a calendar: a care unit's meetings, with a clinician's
   * own in other units (`staffId`), or every unit's.
   */
  subscribe(
    stream: EventStream,
    filter: { meetingId?: string; unitId?: string; staffId?: string; allUnits?: boolean },
  ): () => void {
    const subscriber = { stream, ...filter };
    this.#subscribers.add(subscriber);
    return () => this.#subscribers.delete(subscriber);
  }

  /** Tells every process's pages (this one's at once). */
  publish(audience: MeetingAudience, message: LiveMessage): void {
    this.#bus.emit('meeting.live', { ...audience, ...message });
  }

  #deliver({ unitId, staffIds }: MeetingAudience, message: LiveMessage): void {
    const mayTakeAccess = (accessChanges as readonly string[]).includes(message.type);
    for (const s of this.#subscribers) {
      if (
        s.meetingId === message.meetingId ||
        s.allUnits ||
        (s.unitId !== undefined && s.unitId === unitId) ||
        (s.staffId !== undefined && staffIds.includes(s.staffId))
      )
        s.stream.send('meeting', message);
      if (mayTakeAccess && s.meetingId === message.meetingId) s.stream.recheck();
    }
  }

  get size(): number {
    return this.#subscribers.size;
  }
}
