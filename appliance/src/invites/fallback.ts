// When an SMS fails for good or is reported undelivered, the same message goes by e-mail if the
// person gave an address. Otherwise the failed SMS stays on the meeting page as a task for staff:
// call the participant.
import type { Knex } from 'knex';
import type { Db } from '../db/knex.ts';
import { issueLink, linkExpiry, type LinkPerson } from '../entry/index.ts';
import { findMeeting, findParticipant, meetingEnd } from '../meetings/index.ts';
import { meetingData, recipientsOf } from './messages.ts';
import { answers, callsToMeeting, enqueue, messagesOf, type OutboxMessage } from './outbox.ts';

/**
 * A fresh secret of another domain's for the person a failed message was for (addSecretLink):
 * undefined when there is nothing left to ask them.
 */
export type SecretRenewal = (
  trx: Knex.Transaction,
  person: { meetingId: string; participantId: string; person: LinkPerson },
) => Promise<string | undefined>;

/**
 * Returns the e-mail message's id, or undefined when there is no address to fall back to. Given a
 * transaction (the dispatcher's batch), it writes in a savepoint of it: a fallback that fails is
 * rolled back alone.
 */
export async function fallbackToEmail(
  db: Db | Knex.Transaction,
  dataKey: Buffer,
  failed: OutboxMessage,
  /** ROOM_GRACE_MINUTES: the fresh link lasts while the room may be open (entry's linkExpiry). */
  roomGraceMinutes: number,
  /** For a kind whose secret is another domain's (an evaluation request's): its fresh one. */
  renew?: SecretRenewal,
): Promise<string | undefined> {
  if (failed.channel !== 'sms' || !failed.participantId || failed.kind === 'sms_code') return undefined;
  return db.transaction(async (trx) => {
    const participant = await findParticipant(trx, failed.participantId!);
    const meeting = failed.meetingId ? await findMeeting(trx, failed.meetingId) : undefined;
    if (!participant || !meeting) return undefined;
    // A message that calls the person to the meeting (an invitation, reminder, new time, "we are
    // waiting") goes by e-mail only while there is a meeting for them to come to: not once it was
    // cancelled, they were taken off it, or it is over (an SMS the network gave up on hours later).
    // The news that it is off, and an evaluation request afterwards, still go.
    const stillOn =
      meeting.status !== 'cancelled' &&
      meeting.participants.some((p) => p.id === participant.id) &&
      meetingEnd(meeting).getTime() > Date.now();
    if (!stillOn && callsToMeeting.has(failed.kind)) return undefined;
    // Answered since: a new time the meeting was moved on from (the later new-time message tells the
    // time that holds now, and an e-mail in its place would be a second one), or a call to the
    // meeting after which a later one reached the person (a re-sent invitation delivered before the
    // network gave up on this one: they have the time and a way in).
    if ((await messagesOf(trx, { participantId: participant.id })).some((m) => answers(m, failed))) return undefined;
    const person = (failed.data.person ?? 'main') as LinkPerson;
    const email = recipientsOf(participant).find((r) => r.person === person)?.email;
    if (!email) return undefined;
    // The SMS's link was wiped with it: the e-mail carries a fresh one (the old one stays valid).
    // A secret of another domain's is that domain's to make: a way into the meeting would not open
    // its page (an evaluation request's e-mail led to "not found").
    const withLink = !['cancelled', 'removed'].includes(failed.kind);
    let secret: string | undefined;
    if (renew) {
      secret = await renew(trx, { meetingId: meeting.id, participantId: participant.id, person });
      if (!secret) return undefined;
    } else if (withLink && meeting.status !== 'cancelled') {
      secret = await issueLink(trx, {
        participantId: participant.id,
        person,
        expiresAt: linkExpiry(meetingEnd(meeting), roomGraceMinutes),
      });
    }
    return enqueue(trx, dataKey, {
      channel: 'email',
      kind: failed.kind,
      recipient: email,
      language: failed.language,
      meetingId: failed.meetingId,
      participantId: failed.participantId,
      // The meeting as it is now: moved since the SMS went, the e-mail gives the new time (a new-time
      // message keeps the time it says was the earlier one; "no longer invited" the time it was about).
      data:
        failed.kind === 'removed'
          ? failed.data
          : { ...failed.data, ...(await meetingData(trx, meeting, failed.language)) },
      secret,
      fallbackOf: failed.id,
      dedupeKey: `fallback:${failed.id}`,
    });
  });
}
