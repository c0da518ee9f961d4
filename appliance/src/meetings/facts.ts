// What other domains know about each participant, shown on the meeting page under their status:
// messages sent or failed (invites), a locked link or how they were identified (entry), the tech
// test's verdict. The meetings domain asks through this list instead of reading other tables.
import type { Language } from '../http/i18n.ts';
import type { Meeting } from './model.ts';

export interface ParticipantFact {
  text: string;
  /** Something staff should act on (call the participant, re-send the invitation). */
  problem?: boolean;
}

export type FactsProvider = (meeting: Meeting, lang: Language) => Promise<Map<string, ParticipantFact[]>>;

/** Marks on a meeting in the calendar (e.g. the five-minute rule's alert), for many meetings at once. */
export type MarksProvider = (meetingIds: string[], lang: Language) => Promise<Map<string, string[]>>;

export class ParticipantFacts {
  readonly #providers: FactsProvider[] = [];
  readonly #marks: MarksProvider[] = [];

  add(provider: FactsProvider): void {
    this.#providers.push(provider);
  }

  addMarks(provider: MarksProvider): void {
    this.#marks.push(provider);
  }

  async marks(meetingIds: string[], lang: Language): Promise<Map<string, string[]>> {
    const all = new Map<string, string[]>();
    if (meetingIds.length === 0) return all;
    for (const provider of this.#marks) {
      for (const [meetingId, marks] of await provider(meetingIds, lang))
        all.set(meetingId, [...(all.get(meetingId) ?? []), ...marks]);
    }
    return all;
  }

  async collect(meeting: Meeting, lang: Language): Promise<Map<string, ParticipantFact[]>> {
    const all = new Map<string, ParticipantFact[]>();
    for (const provider of this.#providers) {
      for (const [participantId, facts] of await provider(meeting, lang))
        all.set(participantId, [...(all.get(participantId) ?? []), ...facts]);
    }
    return all;
  }
}
