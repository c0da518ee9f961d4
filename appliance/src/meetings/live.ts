// Live updates for open calendars and meeting pages: meeting changes and participant status,
// pushed over SSE to the pages that show the meeting (by meeting id, or by care unit). What is
// published goes out as the event 'meeting.live', which every appliance process follows: a page
// is live whichever process the browser reached.
import type { EventBus } from '../events.ts';
import type { EventStream } from '../http/sse.ts';
import { changeTypes, type ChangeType } from './events.ts';

export interface LiveMessage {
  type: string;
  meetingId: string;
  participantId?: string;
  status?: string;
}

declare module '../events.ts' {
  interface DomainEvents {
    /** A change a meeting page or calendar shows, already resolved to its care unit. */
    'meeting.live': LiveMessage & { unitId: string };
  }
}

/**
 * Changes after which a person may no longer read the meeting: a colleague removed from it, a
 * leader from another unit replaced. A meeting page's stream checks its access again (http/sse.ts).
 */
export const accessChanges = ['participant.removed', 'meeting.updated'] as const satisfies readonly ChangeType[];

interface Subscriber {
  stream: EventStream;
  meetingId?: string;
  unitId?: string;
  /** Admins and support see every unit's calendar. */
  allUnits?: boolean;
}

export class LiveUpdates {
  readonly #subscribers = new Set<Subscriber>();

  /** `unitOf` finds a meeting's care unit, for events that do not carry it (calendars follow units). */
  readonly #bus: EventBus;

  constructor(bus: EventBus, unitOf: (meetingId: string) => Promise<string | undefined>) {
    this.#bus = bus;
    bus.follow('meeting.live', ({ unitId, ...message }) => this.#deliver(unitId, message));
    for (const type of changeTypes) {
      bus.on(type, (payload) => {
        const { meetingId, unitId, participantId } = payload as {
          meetingId: string;
          unitId: string;
          participantId?: string;
        };
        this.publish(unitId, { type, meetingId, participantId });
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
          this.publish((await unitOf(meetingId)) ?? '', { type, meetingId, participantId: participantId ?? undefined });
      });
    }
  }

  /** Follows one meeting (the meeting page) or a care unit's meetings (the calendar). */
  subscribe(stream: EventStream, filter: { meetingId?: string; unitId?: string; allUnits?: boolean }): () => void {
    const subscriber = { stream, ...filter };
    this.#subscribers.add(subscriber);
    return () => this.#subscribers.delete(subscriber);
  }

  /** Tells every process's pages (this one's at once). */
  publish(unitId: string, message: LiveMessage): void {
    this.#bus.emit('meeting.live', { unitId, ...message });
  }

  #deliver(unitId: string, message: LiveMessage): void {
    const mayTakeAccess = (accessChanges as readonly string[]).includes(message.type);
    for (const s of this.#subscribers) {
      if (s.meetingId === message.meetingId || s.allUnits || (s.unitId !== undefined && s.unitId === unitId))
        s.stream.send('meeting', message);
      if (mayTakeAccess && s.meetingId === message.meetingId) s.stream.recheck();
    }
  }

  get size(): number {
    return this.#subscribers.size;
  }
}
