// Reminders before a meeting: by default 24 hours and 15 minutes before the start (REMINDER_OFFSETS).
// None for a meeting booked inside the offset: the invitation itself is fresh enough. Each reminder
// is enqueued once per person and start time, so a rescheduled meeting is reminded of anew.
import type { Db } from '../db/knex.ts';
import { every } from '../schedule.ts';
import { listMeetings } from '../meetings/index.ts';
import type { Composer } from './messages.ts';
import { tellParticipant } from './messages.ts';

export class Reminders {
  #stop = () => {};

  constructor(
    private readonly db: Db,
    private readonly composer: Composer,
    private readonly offsetsMinutes: number[],
    private readonly log: (level: 'info' | 'warn' | 'error', message: string) => void,
  ) {}

  start(onEnqueued: () => void, everyMs = 60_000): void {
    this.#stop = every(
      everyMs,
      async () => ((await this.due()) > 0 ? onEnqueued() : undefined),
      (error) => this.log('error', `reminders: ${error.message}`),
    );
  }

  stop(): void {
    this.#stop();
  }

  /** Enqueues every reminder that is due at `now`; returns how many messages were written. */
  async due(now = new Date()): Promise<number> {
    let count = 0;
    for (const offset of this.offsetsMinutes) {
      const windowEnd = new Date(now.getTime() + offset * 60_000);
      const meetings = await listMeetings(this.db, { from: now, to: windowEnd });
      for (const meeting of meetings) {
        if (meeting.status !== 'booked' && meeting.status !== 'open') continue;
        const remindAt = meeting.startsAt.getTime() - offset * 60_000;
        if (meeting.createdAt.getTime() > remindAt) continue;
        await this.db.transaction(async (trx) => {
          for (const participant of meeting.participants) {
            if (participant.kind === 'colleague') continue; // staff have the meeting in their calendar
            count += await tellParticipant(
              trx,
              this.composer,
              meeting,
              participant,
              'reminder',
              {},
              {
                withLink: true,
                dedupe: `reminder:${offset}:${meeting.startsAt.toISOString()}`,
              },
            );
          }
        });
      }
    }
    return count;
  }
}
