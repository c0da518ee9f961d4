// When an SMS fails for good or is reported undelivered, the same message goes by e-mail if the
// person gave an address. Otherwise the failed SMS stays on the meeting page as a task for staff:
// call the participant.
import type { Knex } from 'knex';
import type { Db } from '../db/knex.ts';
import { issueLink, linkExpiry, type LinkPerson } from '../entry/index.ts';
import { findMeeting, findParticipant, meetingEnd } from '../meetings/index.ts';
import { recipientsOf } from './messages.ts';
import { enqueue, type OutboxMessage } from './outbox.ts';

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
): Promise<string | undefined> {
  if (failed.channel !== 'sms' || !failed.participantId || failed.kind === 'sms_code') return undefined;
  return db.transaction(async (trx) => {
    const participant = await findParticipant(trx, failed.participantId!);
    const meeting = failed.meetingId ? await findMeeting(trx, failed.meetingId) : undefined;
    if (!participant || !meeting) return undefined;
    const person = (failed.data.person ?? 'main') as LinkPerson;
    const email = recipientsOf(participant).find((r) => r.person === person)?.email;
    if (!email) return undefined;
    // The SMS's link was wiped with it: the e-mail carries a fresh one (the old one stays valid).
    const withLink = !['cancelled'].includes(failed.kind);
    const secret =
      withLink && meeting.status !== 'cancelled'
        ? await issueLink(trx, {
            participantId: participant.id,
            person,
            expiresAt: linkExpiry(meetingEnd(meeting), roomGraceMinutes),
          })
        : undefined;
    return enqueue(trx, dataKey, {
      channel: 'email',
      kind: failed.kind,
      recipient: email,
      language: failed.language,
      meetingId: failed.meetingId,
      participantId: failed.participantId,
      data: failed.data,
      secret,
      fallbackOf: failed.id,
      dedupeKey: `fallback:${failed.id}`,
    });
  });
}
