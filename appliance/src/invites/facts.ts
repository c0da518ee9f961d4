// What the meeting page shows of each participant's messages: the latest and what became of it,
// and an SMS that did not arrive (with no e-mail to fall back on) as a task: call the participant.
import type { Db } from '../db/knex.ts';
import { t } from '../http/i18n.ts';
import type { FactsProvider, ParticipantFact } from '../meetings/index.ts';
import type { Language } from '../common/language.ts';
import {
  answers,
  contactsChanged,
  messagesOf,
  notSentBecause,
  notSentReasons,
  notSentWhy,
  withdrawn,
  type OutboxMessage,
} from './outbox.ts';

/** The key of a withdrawal reason's words (invites.notSent.*), by the reason as the outbox records it. */
const notSentKeys = new Map<string, string>(Object.entries(notSentReasons).map(([key, why]) => [why, key]));

/** A message's status in words: one withdrawn on purpose (a cancelled meeting) is "not sent", no failure. */
export const statusText = (lang: Language, m: Pick<OutboxMessage, 'status' | 'lastError'>): string =>
  t(lang, withdrawn(m) ? 'invites.status.withdrawn' : `invites.status.${m.status}`);

/** What became of a message, in words when Samverka itself withdrew it; a gateway's or relay's reply as it came. */
export function reasonText(lang: Language, m: Pick<OutboxMessage, 'status' | 'lastError'>): string | null {
  const why = notSentWhy(m);
  if (why === undefined) return m.lastError;
  const key = notSentKeys.get(why);
  return key ? t(lang, `invites.notSent.${key}`) : why;
}

export function messageFacts(db: Db): FactsProvider {
  return async (meeting, lang) => {
    const messages = (await messagesOf(db, { meetingId: meeting.id })).filter((m) => m.kind !== 'sms_code');
    const facts = new Map<string, ParticipantFact[]>();
    for (const participant of meeting.participants) {
      const mine = messages.filter((m) => m.participantId === participant.id);
      const latest = mine.at(-1);
      if (!latest) continue;
      const list: ParticipantFact[] = [
        {
          text: t(lang, 'invites.fact.latest', {
            kind: t(lang, `invites.kind.${latest.kind}`),
            channel: t(lang, `invites.channel.inPhrase.${latest.channel}`),
            status: statusText(lang, latest),
          }),
        },
      ];
      const unanswered = mine.filter(
        (m) =>
          m.channel === 'sms' &&
          m.status === 'failed' &&
          !withdrawn(m) &&
          // Answered: by an e-mail in its place, or by a later new time (fallback.ts sends no e-mail
          // then). An e-mail in its place withdrawn as no longer news answers it too: what the SMS
          // said is no longer the news either (moved back to the time the person was told, a later
          // reminder due, the meeting over or off, and what followed then is a message of its own).
          // Only an e-mail that failed on its way, or was withdrawn because its address was corrected
          // (it never went), leaves the person truly without the news, until a later call to the
          // meeting reaches them (the 15-minute reminder after the 24-hour one, a re-sent invitation).
          !mine.some(
            (f) =>
              (f.fallbackOf === m.id &&
                (f.status !== 'failed' || (withdrawn(f) && f.lastError !== notSentBecause(contactsChanged)))) ||
              answers(f, m),
          ),
      );
      const failed = unanswered.at(-1);
      if (failed) {
        // The number as the page shows the participant's: the meeting support reads holds none.
        const shown = [participant.mobile, participant.proxy?.mobile].includes(failed.recipient);
        const reason = failed.lastError ?? '';
        list.push({
          problem: true,
          text: shown
            ? t(lang, 'invites.fact.smsFailed', { number: failed.recipient, reason })
            : t(lang, 'invites.fact.smsFailedUnshown', { reason }),
        });
      }
      facts.set(participant.id, list);
    }
    return facts;
  };
}
