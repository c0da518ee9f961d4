// Evaluations are promised anonymous: the answers are kept apart from who gave them. Who answered
// (evaluation_respondents) must not be matched to what was answered (evaluation_responses) by the
// database's own order or times: the order rows were written in (SQLite's rowid, PostgreSQL's
// ctid and xmin) beside the exact moment each respondent answered.
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { purge } from '../../appliance/src/admin/retention.ts';
import { fromClinicTime, toClinicTime } from '../../appliance/src/common/clock.ts';
import { isSqlite } from '../../appliance/src/db/knex.ts';
import { currentSet, ensureRespondent, recordResponse } from '../../appliance/src/evaluation/store.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer({ env: { REMINDER_OFFSETS: 'none' } });
});
test.after.always(() => app?.stop());

test('neither the order answers were stored in nor the time a person answered ties an answer to them', async (t) => {
  const db = app.server.app.db;
  const { staff } = await app.staff('clinician');
  const meetingId = randomUUID();
  const set = await currentSet(db, staff.unitId, 'guest');
  // Eight guests answer one after another, a minute apart, each a comment of their own.
  const start = fromClinicTime(toClinicTime(new Date()).date, '09:00').getTime();
  for (let i = 0; i < 8; i++) {
    const respondent = await ensureRespondent(db, {
      meetingId,
      unitId: staff.unitId,
      subject: `p:${randomUUID()}:main`,
      role: 'guest',
      meetingAt: new Date(start - 3600_000),
    });
    t.true(await recordResponse(db, respondent, set, { comment: `svar ${i}` }, new Date(start + i * 60_000)));
  }
  const respondents: { answered_at: unknown }[] = await db('evaluation_respondents').where({ meeting_id: meetingId });
  t.is(
    new Set(respondents.map((r) => new Date(r.answered_at as string).getTime())).size,
    1,
    'who answered that day keeps the day, not the minute',
  );

  // The nightly run (retention) settles the day's answers.
  await purge(db, app.config.retention, 'cli');
  const stored = isSqlite(db)
    ? await db('evaluation_responses').where({ unit_id: staff.unitId }).orderBy(db.raw('rowid')).select('id', 'answers')
    : await db('evaluation_responses')
        .where({ unit_id: staff.unitId })
        .orderBy(db.raw('ctid'))
        .select('id', 'answers', db.raw('xmin::text as xmin'));
  t.is(stored.length, 8);
  t.deepEqual(
    stored.map((r: { id: string }) => r.id),
    stored.map((r: { id: string }) => r.id).sort(),
    'stored in the order of their random ids, not the order they were given in',
  );
  if (!isSqlite(db))
    t.is(new Set(stored.map((r: { xmin: string }) => r.xmin)).size, 1, 'one transaction wrote them all');
});
