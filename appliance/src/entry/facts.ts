// What the meeting page shows of each participant's way in: a locked link (re-send the
// invitation), a failed identity check (contact the person), how they were identified, and the
// technical test's verdict.
import { localeOf } from '../common/language.ts';
import type { Db } from '../db/knex.ts';
import { t, type Language } from '../http/i18n.ts';
import type { FactsProvider, ParticipantFact } from '../meetings/index.ts';
import { deviceProblems, latestResult, participantSubject, type TechTestResult } from '../techtest/index.ts';
import { entryStatesOf } from './store.ts';

/**
 * The devices that did not work in a test, in words ("kameran och mikrofonen"); empty when all did.
 * The waiting room tells the person, the meeting page staff.
 */
export function failedDevices(result: TechTestResult, lang: Language): string {
  const devices = deviceProblems(result).map((d) => t(lang, `entry.device.${d}`));
  return devices.length ? new Intl.ListFormat(localeOf(lang), { type: 'conjunction' }).format(devices) : '';
}

export function entryFacts(db: Db): FactsProvider {
  return async (meeting, lang) => {
    const states = await entryStatesOf(
      db,
      meeting.participants.map((p) => p.id),
    );
    const facts = new Map<string, ParticipantFact[]>();
    for (const state of states) {
      const list: ParticipantFact[] = [];
      const who = state.person === 'proxy' ? `${t(lang, 'entry.fact.proxy')}: ` : '';
      if (state.lockedAt) list.push({ problem: true, text: who + t(lang, 'entry.fact.locked') });
      if (state.identityMismatches > 0) list.push({ problem: true, text: who + t(lang, 'entry.fact.mismatch') });
      if (state.identifiedBy)
        list.push({
          text: who + t(lang, 'entry.fact.identified', { method: t(lang, `rooms.identified.${state.identifiedBy}`) }),
        });
      const tested = await latestResult(db, participantSubject(state));
      if (tested) {
        const rtt = tested.network.rttMs != null ? ` (${Math.round(tested.network.rttMs)} ms)` : '';
        // A good connection with no microphone is still a person nobody hears: staff should know.
        const devices = failedDevices(tested, lang);
        list.push({
          problem: tested.verdict === 'failed' || devices !== '',
          text:
            who +
            t(lang, `entry.fact.tested.${tested.verdict}`) +
            rtt +
            (devices ? `; ${t(lang, 'entry.fact.devicesFailed', { devices })}` : ''),
        });
      }
      if (list.length) facts.set(state.participantId, [...(facts.get(state.participantId) ?? []), ...list]);
    }
    return facts;
  };
}
