// Retention: connection logs, evaluation answers and participants' contact data are deleted once
// their periods (RETENTION_*_DAYS) have passed — daily by the appliance, and on demand by
// `samverka purge`. Every purge is audit-logged with its counts.
import { insertAudit } from '../audit/index.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/knex.ts';
import { every } from '../schedule.ts';
import { deleteAnswersBefore } from '../evaluation/index.ts';
import { eraseMessageContacts } from '../invites/index.ts';
import { eraseContactsOfMeetings, meetingsEndedBefore } from '../meetings/index.ts';
import { deleteEntriesBefore } from './store.ts';

export interface PurgeCounts {
  connlogEntries: number;
  evaluationResponses: number;
  evaluationRespondents: number;
  participantContacts: number;
  /** Messages whose address and data went with the participants' contact data. */
  messageContacts: number;
}

const daysBefore = (now: Date, days: number) => new Date(now.getTime() - days * 86_400_000);

export async function purge(db: Db, retention: Config['retention'], via: 'schedule' | 'cli', now = new Date()): Promise<PurgeCounts> {
  const answers = await deleteAnswersBefore(db, daysBefore(now, retention.answersDays));
  const ended = await meetingsEndedBefore(db, daysBefore(now, retention.contactsDays));
  const counts: PurgeCounts = {
    connlogEntries: await deleteEntriesBefore(db, daysBefore(now, retention.connlogDays)),
    evaluationResponses: answers.responses,
    evaluationRespondents: answers.respondents,
    participantContacts: await eraseContactsOfMeetings(db, ended),
    messageContacts: await eraseMessageContacts(db, ended),
  };
  await insertAudit(db, { action: 'retention.purge', targetType: 'retention', details: { ...counts, ...retention, via } }, now);
  return counts;
}

/** The daily purge inside the appliance. */
export class RetentionSchedule {
  #stop = () => {};

  constructor(
    private readonly db: Db,
    private readonly retention: Config['retention'],
    private readonly log: (level: 'info' | 'error', message: string) => void,
  ) {}

  start(everyMs = 24 * 3600_000): void {
    const tick = async () => {
      const c = await purge(this.db, this.retention, 'schedule');
      this.log('info', `retention: deleted ${c.connlogEntries} log entries, ${c.evaluationResponses} evaluation answers, ${c.evaluationRespondents} evaluation respondents; erased contact data of ${c.participantContacts} participants and ${c.messageContacts} messages`);
    };
    // The first run waits a minute: a start should not begin with deletes while migrations settle.
    this.#stop = every(everyMs, tick, (error) => this.log('error', `retention: ${error.message}`), { firstAfterMs: 60_000 });
  }

  stop(): void {
    this.#stop();
  }
}
