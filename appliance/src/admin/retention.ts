// Retention, the one scheduler: connection logs (and the tech test results support reads beside
// them), evaluation answers, participants' contact data and the addresses typed at failed logins
// that named no account are deleted once their periods
// (RETENTION_*_DAYS) have passed, and audit records once their ten
// years have — daily by the appliance, and on demand by `samverka purge`. Each domain purges its
// own tables; every purge is audit-logged with its counts.
import { auditRetentionYears, forgetTypedAddresses, insertAudit, purgeAudit, retentionCutoff } from '../audit/index.ts';
import type { Config } from '../config.ts';
import { meetingsLoggedBefore, purgeEntries } from '../connlog/index.ts';
import type { Db } from '../db/knex.ts';
import { iso } from '../db/values.ts';
import { purgeAnswers, settleAnswers } from '../evaluation/index.ts';
import { eraseMessageContacts } from '../invites/index.ts';
import { eraseContactsOfMeetingsEndedBefore, forgetPatientRefs, meetingsEndedBefore } from '../meetings/index.ts';
import { every } from '../schedule.ts';
import { purgeResults } from '../techtest/index.ts';

export interface PurgeCounts {
  connlogEntries: number;
  /** Kept as long as the connection log, whose entries of the same tests hold their figures. */
  techtestResults: number;
  evaluationResponses: number;
  evaluationRespondents: number;
  participantContacts: number;
  /** Messages whose address and data went with the participants' contact data. */
  messageContacts: number;
  /** E-mail addresses typed at failed logins that named no account (their records stay). */
  loginAddresses: number;
}

const daysBefore = (now: Date, days: number) => new Date(now.getTime() - days * 86_400_000);

export async function purge(
  db: Db,
  retention: Config['retention'],
  via: 'schedule' | 'cli',
  now = new Date(),
): Promise<PurgeCounts> {
  const answers = await purgeAnswers(db, daysBefore(now, retention.answersDays));
  // Not a deletion, but the same nightly care of personal data: the day's evaluation answers lose
  // the order they were given in, which would tie them to who answered when.
  await settleAnswers(db);
  const contactsCutoff = daysBefore(now, retention.contactsDays);
  const logCutoff = daysBefore(now, retention.connlogDays);
  const counts: PurgeCounts = {
    // From the meeting's end: a meeting booked further ahead than the period keeps its booking's
    // entries. Asked only about the meetings that still have old entries, not every one ever held.
    connlogEntries: await purgeEntries(
      db,
      await meetingsEndedBefore(db, logCutoff, await meetingsLoggedBefore(db, logCutoff)),
    ),
    techtestResults: await purgeResults(db, logCutoff),
    evaluationResponses: answers.responses,
    evaluationRespondents: answers.respondents,
    // Each asked only of the rows that still hold the data, not of every meeting ever held.
    participantContacts: await eraseContactsOfMeetingsEndedBefore(db, contactsCutoff),
    messageContacts: await eraseMessageContacts(db, (among) => meetingsEndedBefore(db, contactsCutoff, among), now),
    loginAddresses: await forgetTypedAddresses(db, daysBefore(now, retention.loginAddressDays)),
  };
  await insertAudit(
    db,
    { action: 'retention.purge', targetType: 'retention', details: { ...counts, ...retention, via } },
    now,
  );
  return counts;
}

/**
 * Removes audit records older than the audit log's retention period and records the purge, as a
 * system action (no staff member), when it removed anything. The patients' keyed numbers of
 * meetings past that period go with them: they were kept only to find those records for a log
 * extract (meetings/patients.ts). Returns how many records went.
 */
export async function purgeAuditLog(db: Db, now = new Date()): Promise<number> {
  const removed = await purgeAudit(db, now);
  await forgetPatientRefs(db, retentionCutoff(now));
  if (removed > 0)
    await insertAudit(db, {
      action: 'audit.purge',
      targetType: 'audit_log',
      details: { removed, before: iso(retentionCutoff(now)) },
    });
  return removed;
}

/**
 * Runs every purge once a day while the appliance runs (the first a minute after start, so that a
 * start does not begin with deletes while migrations settle). Returns a stop function, which resolves
 * once a run still writing has finished (the leader awaits it before the database closes).
 */
export function scheduleRetention(
  db: Db,
  retention: Config['retention'],
  log: (level: 'info' | 'error', message: string) => void,
  everyMs = 24 * 3600_000,
  firstAfterMs = 60_000,
): () => Promise<void> {
  return every(
    everyMs,
    async () => {
      const c = await purge(db, retention, 'schedule');
      log(
        'info',
        `retention: deleted ${c.connlogEntries} log entries, ${c.techtestResults} tech test results, ${c.evaluationResponses} evaluation answers, ${c.evaluationRespondents} evaluation respondents; erased contact data of ${c.participantContacts} participants and ${c.messageContacts} messages; forgot ${c.loginAddresses} addresses typed at failed logins`,
      );
      const removed = await purgeAuditLog(db);
      if (removed > 0) log('info', `audit log: ${removed} record(s) older than ${auditRetentionYears} years purged`);
    },
    (error) => log('error', `retention: ${error.message}`),
    { firstAfterMs },
  );
}
