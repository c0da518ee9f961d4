// Evaluation requests through the outbox after a meeting ends: when the room is ended (the rooms
// plugin's 'room.ended'), or at the latest an hour after the booked end for meetings nobody ended
// explicitly. Each patient, proxy and guest who came through the way in to the meeting (their
// name, code or BankID/SITHS check passed) gets one message with a link of their own
// (PUBLIC_URL/e/<token>, only its hash stored), valid EVALUATION_DAYS; someone who never got in has
// no digital meeting to judge (a proxy who stayed away is not asked). Staff and colleagues with an
// account evaluate from the meeting page in the staff UI.
import { randomToken } from '../crypto.ts';
import { entryStatesOf } from '../entry/index.ts';
import type { Db } from '../db/knex.ts';
import { every } from '../schedule.ts';
import { addressesOf, meetingData, recipientsOf } from '../invites/index.ts';
import { meetingEnd } from '../meetings/index.ts';
import { enqueue } from '../invites/index.ts';
import type { Meeting } from '../meetings/index.ts';
import { findMeeting, listMeetings } from '../meetings/index.ts';
import { participantSubject } from './model.ts';
import { roleOf } from './service.ts';
import { ensureRespondent, setRequestToken } from './store.ts';

/** The routine's meetings end with a summary; an hour past the booked end they are surely over. */
export const requestAfterEndMinutes = 60;
/** How far back the schedule looks: a request days late is better not sent. */
const lookBackDays = 2;

export class EvaluationRequests {
  #stop: () => Promise<void> = async () => {};

  constructor(
    private readonly db: Db,
    private readonly dataKey: Buffer,
    private readonly validDays: number,
    private readonly log: (level: 'info' | 'warn' | 'error', message: string) => void,
  ) {}

  start(onEnqueued: () => void, everyMs = 5 * 60_000): void {
    this.#stop = every(
      everyMs,
      async () => ((await this.due()) > 0 ? onEnqueued() : undefined),
      (error) => this.log('error', `evaluation requests: ${error.message}`),
    );
  }

  /** Ends the schedule; resolves once a run still writing has finished (before the database closes). */
  stop(): Promise<void> {
    return this.#stop();
  }

  /** Requests for every meeting whose end + 1 h has passed by `now`; returns how many messages were written. */
  async due(now = new Date()): Promise<number> {
    const meetings = await listMeetings(this.db, {
      from: new Date(now.getTime() - lookBackDays * 86_400_000),
      to: now,
    });
    let count = 0;
    for (const meeting of meetings) {
      if (meetingEnd(meeting).getTime() + requestAfterEndMinutes * 60_000 > now.getTime()) continue;
      count += await this.requestFor(meeting, now);
    }
    return count;
  }

  /** Requests for one meeting (once per person: later calls write nothing); cancelled meetings get none. */
  async requestFor(meetingOrId: Meeting | string, now = new Date()): Promise<number> {
    const meeting = typeof meetingOrId === 'string' ? await findMeeting(this.db, meetingOrId) : meetingOrId;
    if (!meeting || meeting.status === 'cancelled') return 0;
    const expiresAt = new Date(now.getTime() + this.validDays * 86_400_000);
    const entered = new Set(
      (
        await entryStatesOf(
          this.db,
          meeting.participants.map((p) => p.id),
        )
      )
        .filter((s) => s.identifiedAt)
        .map((s) => `${s.participantId}:${s.person}`),
    );
    return this.db.transaction(async (trx) => {
      let count = 0;
      for (const participant of meeting.participants) {
        if (participant.kind === 'colleague') continue;
        for (const recipient of recipientsOf(participant)) {
          if (recipient.person === 'colleague') continue;
          if (!entered.has(`${participant.id}:${recipient.person}`)) continue;
          const [address] = addressesOf(recipient);
          if (!address) continue;
          const respondent = await ensureRespondent(trx, {
            meetingId: meeting.id,
            unitId: meeting.unitId,
            subject: participantSubject(participant.id, recipient.person),
            role: roleOf(participant, recipient.person),
            meetingAt: meeting.startsAt,
          });
          const token = randomToken(18);
          // Nobody is asked twice, and nobody who already answered on the page after the meeting.
          if (!(await setRequestToken(trx, respondent.id, token, expiresAt, now))) continue;
          const language = participant.language;
          await enqueue(trx, this.dataKey, {
            channel: address.channel,
            kind: 'evaluation_request',
            recipient: address.address,
            language,
            meetingId: meeting.id,
            participantId: participant.id,
            data: { ...(await meetingData(trx, meeting, language)), name: recipient.name, person: recipient.person },
            secret: token,
            dedupeKey: `evaluation:${participant.id}:${recipient.person}:${address.channel}`,
          }); // due at once, whatever clock decided that the meeting is over
          count += 1;
        }
      }
      return count;
    });
  }
}
