// What the meeting page shows from the room: who is in it now, and the five-minute rule's alert
// (the routine: call the participant on the number in the booking) with what staff did about it.
import type { Db } from '../db/knex.ts';
import { t } from '../http/i18n.ts';
import { displayPhone, type FactsProvider, type MarksProvider, type ParticipantFact } from '../meetings/index.ts';
import { inRoom, nudgeChannel } from './contact.ts';
import { alertsOf, openAlertCounts, presenceOf } from './store.ts';

export function roomFacts(db: Db): FactsProvider {
  return async (meeting, lang) => {
    const [presence, alerts] = await Promise.all([presenceOf(db, meeting.id), alertsOf(db, meeting.id)]);
    const facts = new Map<string, ParticipantFact[]>();
    const add = (id: string, fact: ParticipantFact) => facts.set(id, [...(facts.get(id) ?? []), fact]);
    // One fact per participant, however many of them are in (a patient and their proxy: named).
    for (const p of meeting.participants) {
      const here = inRoom(lang, p, presence);
      if (here.people.length > 0)
        add(p.id, {
          text: here.whoNames ? t(lang, 'rooms.fact.inRoomWho', { who: here.whoNames }) : t(lang, 'rooms.fact.inRoom'),
        });
    }
    for (const alert of alerts) {
      if (alert.clearedAt) continue;
      const participant = meeting.participants.find((p) => p.id === alert.participantId);
      const phone = participant?.mobile ?? participant?.proxy?.mobile;
      const byEmail = participant && nudgeChannel(participant) === 'email';
      const text = phone
        ? t(lang, 'rooms.fact.noShowCall', { phone: displayPhone(phone) })
        : t(lang, byEmail ? 'rooms.fact.noShowEmail' : 'rooms.fact.noShow');
      add(alert.participantId, { problem: !alert.action, text });
      if (alert.action) add(alert.participantId, { text: t(lang, `rooms.noshow.done.${alert.action}`) });
    }
    return facts;
  };
}

/** The calendar marks a meeting where someone is missing and nobody has acted on it yet. */
export function roomMarks(db: Db): MarksProvider {
  return async (meetingIds, lang) => {
    const marks = new Map<string, string[]>();
    for (const [meetingId, missing] of await openAlertCounts(db, meetingIds))
      marks.set(meetingId, [t(lang, 'rooms.mark.noShow', { n: missing })]);
    return marks;
  };
}
