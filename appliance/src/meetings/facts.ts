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

export class ParticipantFacts {
  readonly #providers: FactsProvider[] = [];

  add(provider: FactsProvider): void {
    this.#providers.push(provider);
  }

  async collect(meeting: Meeting, lang: Language): Promise<Map<string, ParticipantFact[]>> {
    const all = new Map<string, ParticipantFact[]>();
    for (const provider of this.#providers) {
      for (const [participantId, facts] of await provider(meeting, lang)) all.set(participantId, [...(all.get(participantId) ?? []), ...facts]);
    }
    return all;
  }
}
