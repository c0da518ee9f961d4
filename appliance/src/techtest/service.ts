// Recording a test: the server computes the verdict from the figures itself (the page shows the
// same computation, but a stored verdict must not rest on the browser's word) and tells the other
// domains, so that the staff meeting page can show the result live.
import type { Db } from '../db/knex.ts';
import type { EventBus } from '../events.ts';
import type { Subject, TechTestAnswers, TechTestResult, Verdict } from './model.ts';
import { insertResult } from './store.ts';
import { describeUserAgent } from './useragent.ts';
import { connectionVerdict } from './verdict.ts';

declare module '../events.ts' {
  interface DomainEvents {
    'techtest.completed': { subject: Subject; resultId: string; verdict: Verdict };
  }
}

/**
 * A staff member's tests belong to the login session: stored under the session's key (the
 * credentials' `sessionKey`, the hash of the id the session began with), which a password change
 * that renames the session keeps.
 */
export const staffSessionSubject = (sessionKey: string): Subject => ({ type: 'staff_session', id: sessionKey });

export async function recordResult(
  deps: { db: Db; bus: EventBus },
  subject: Subject,
  answers: TechTestAnswers,
  userAgent: string | undefined,
  now: Date = new Date(),
): Promise<TechTestResult> {
  const verdict = connectionVerdict(answers.network);
  // The result and what the other domains write of it (the connection log's entry, the
  // participant's status: the event's parts) commit once.
  return deps.db.transaction(async (trx) => {
    const result = await insertResult(trx, {
      ...answers,
      subject,
      verdict,
      ...describeUserAgent(userAgent),
      testedAt: now,
    });
    await deps.bus.emitIn(trx, 'techtest.completed', { subject, resultId: result.id, verdict });
    return result;
  });
}
