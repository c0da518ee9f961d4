// Reminders before a meeting: by default 24 hours and 15 minutes before the start (REMINDER_OFFSETS).
// None to a person invited, or told of a new time, after a reminder's time: that message is fresh
// enough (staff are not reminded: the meeting is in their calendar). Each reminder is enqueued once
// per person and start time, so a rescheduled meeting is reminded of anew.
import type { Db } from '../db/knex.ts';
import { every } from '../schedule.ts';
import { listMeetings } from '../meetings/index.ts';
import type { Composer, Recipient } from './messages.ts';
import { addressesOf, dedupeKeyOf, recipientsOf, tellParticipant } from './messages.ts';
import { dedupeKeysOf, lastToldOfTime, personKey } from './outbox.ts';

export class Reminders {
  #stop: () => Promise<void> = async () => {};

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

  /** Ends the schedule; resolves once a run still writing has finished (before the database closes). */
  stop(): Promise<void> {
    return this.#stop();
  }

  /**
   * Enqueues every reminder that is due at `now`; returns how many messages were written. A
   * reminder is due from its time until the next, shorter one's: after downtime a person gets the
   * latest reminder that applies, not all of them at once.
   */
  async due(now = new Date()): Promise<number> {
    let count = 0;
    const offsets = [...this.offsetsMinutes].sort((a, b) => b - a);
    for (const [i, offset] of offsets.entries()) {
      const nextOffset = offsets[i + 1] ?? 0;
      const meetings = (
        await listMeetings(this.db, {
          // A meeting exactly at the next reminder's time has reached it: not this one's any more.
          from: new Date(now.getTime() + nextOffset * 60_000 + 1),
          to: new Date(now.getTime() + offset * 60_000),
        })
      ).filter((m) => m.status === 'booked' || m.status === 'open');
      const ids = meetings.map((m) => m.id);
      const told = await lastToldOfTime(this.db, ids);
      // Run every minute over a day's meetings: what was reminded already is read once, not looked
      // up (in a transaction of its own) person by person.
      const sent = await dedupeKeysOf(this.db, ids, 'reminder');
      for (const meeting of meetings) {
        const remindAt = meeting.startsAt.getTime() - offset * 60_000;
        // Held up (a gateway down) until the next, shorter reminder is due, this one is stale: the
        // dispatcher withdraws it then rather than send both at once.
        const extra =
          i + 1 < offsets.length
            ? { laterReminderAt: new Date(meeting.startsAt.getTime() - nextOffset * 60_000).toISOString() }
            : {};
        const dedupe = `reminder:${offset}:${meeting.startsAt.toISOString()}`;
        // Who was invited, or told of a new time, after this reminder's time has it fresh enough.
        const toldSince = (r: Recipient) => (told.get(personKey(r.participantId, r.person))?.getTime() ?? 0) > remindAt;
        const toRemind = meeting.participants.filter(
          (p) =>
            p.kind !== 'colleague' &&
            recipientsOf(p).some(
              (r) => !toldSince(r) && addressesOf(r).some((a) => !sent.has(dedupeKeyOf(dedupe, r, a.channel))),
            ),
        );
        if (toRemind.length === 0) continue;
        await this.db.transaction(async (trx) => {
          for (const participant of toRemind) {
            count += await tellParticipant(trx, this.composer, meeting, participant, 'reminder', extra, {
              withLink: true,
              dedupe,
              unless: toldSince,
            });
          }
        });
      }
    }
    return count;
  }
}
