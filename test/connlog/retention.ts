// Retention: connection logs, evaluation answers and participants' contact data go once their
// periods have passed — exactly those, nothing younger — and each purge is audit-logged with its
// counts, whether the schedule or `samverka purge` ran it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addDays, fromClinicTime, toClinicTime } from '../../appliance/src/common/clock.ts';
import { enqueue } from '../../appliance/src/invites/outbox.ts';
import test, { type ExecutionContext } from 'ava';
import { findAudit } from '../../appliance/src/audit/store.ts';
import { run } from '../../appliance/src/cli.ts';
import { purge, purgeAuditLog } from '../../appliance/src/admin/retention.ts';
import { insertEntry } from '../../appliance/src/connlog/store.ts';
import { ensureRespondent, recordResponse, currentSet } from '../../appliance/src/evaluation/store.ts';
import {
  findMeeting,
  insertMeeting,
  insertParticipants,
  personalNumberOf,
} from '../../appliance/src/meetings/store.ts';
import { everyDatabase } from '../helpers/databases.ts';
import type { Db } from '../../appliance/src/db/knex.ts';
import { present } from '../helpers/present.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const day = 86_400_000;

/** An hour's meeting of the staff member's unit, booked and led by them. */
const meetingOf = (db: Db, staff: { id: string; unitId: string }, title: string, startsAt: Date) =>
  insertMeeting(db, {
    unitId: staff.unitId,
    title,
    startsAt,
    durationMinutes: 60,
    bookedBy: staff.id,
    ledBy: staff.id,
    documentationPlan: 'Journal',
    testMeeting: false,
  });

// A database each: a SQLite file serves one appliance at a time.
const [databases, others, histories] = await Promise.all([everyDatabase(), everyDatabase(), everyDatabase()]);

for (const database of databases) {
  test(`purge removes exactly what is past its period, and says how much (${database.kind})`, async (t) => {
    const app = await startServer({ database });
    try {
      await purgeScenario(t, app);
    } finally {
      await app.stop();
    }
  });
}

async function purgeScenario(t: ExecutionContext, app: TestServer): Promise<void> {
  const db = app.server.app.db;
  const { staff } = await app.staff('clinician');
  const now = new Date('2026-11-20T12:00:00.000Z');
  const ago = (days: number, ms = 0) => new Date(now.getTime() - days * day + ms);
  /** A meeting of an hour that ended `endedDaysAgo` before now (plus `ms`). */
  const meetingEnded = async (endedDaysAgo: number, ms = 0) => {
    const id = await meetingOf(db, staff, 'Uppföljning', ago(endedDaysAgo, ms - 3600_000));
    await insertParticipants(
      db,
      id,
      [
        {
          kind: 'patient_proxy',
          identification: 'bankid',
          name: 'Sara Lind',
          country: 'SE',
          mobile: '+46701234567',
          email: null,
          personalNumber: '191212121212',
          staffId: null,
          proxy: {
            name: 'Per Lind',
            country: 'SE',
            mobile: '+46707654321',
            email: 'per@example.org',
            personalNumber: '191212121212',
          },
          language: 'sv',
        },
        {
          kind: 'guest',
          identification: 'none',
          name: 'Eva Ek',
          country: 'SE',
          mobile: null,
          email: 'eva@skola.example',
          personalNumber: null,
          staffId: null,
          proxy: null,
          language: 'sv',
        },
      ],
      0,
      app.config.dataKey,
    );
    return id;
  };
  const { connlogDays, answersDays, contactsDays } = app.config.retention;
  t.deepEqual([connlogDays, answersDays, contactsDays], [180, 730, 90], 'the documented defaults');

  const oldMeeting = await meetingEnded(contactsDays, -1000);
  const youngMeeting = await meetingEnded(contactsDays, +1000);
  // A connection log's period counts from its meeting's end, not from each entry: a meeting booked
  // further ahead than the period keeps its booking's entries until it has been held and the
  // period has passed after it.
  const meetingOnly = (startsAt: Date) => meetingOf(db, staff, 'Logg', startsAt);
  const loggedOld = await meetingOnly(ago(connlogDays, -1000 - 3600_000));
  const loggedYoung = await meetingOnly(ago(connlogDays, +1000 - 3600_000));
  const bookedAhead = await meetingOnly(new Date(now.getTime() + 30 * day));
  for (const [meetingId, at, type] of [
    [loggedOld, ago(connlogDays, -1000 - 7200_000), 'old'],
    [loggedYoung, ago(connlogDays + 5), 'young'],
    [bookedAhead, ago(connlogDays + 20), 'ahead'],
  ] as const) {
    await insertEntry(db, {
      at,
      meetingId,
      participantId: null,
      type: `test_${type}`,
      details: {},
    });
  }
  const answered = async (meetingAt: Date, subject: string) => {
    const respondent = await ensureRespondent(db, {
      meetingId: youngMeeting,
      unitId: staff.unitId,
      subject,
      role: 'guest',
      meetingAt,
    });
    t.true(await recordResponse(db, respondent, await currentSet(db, staff.unitId, 'guest'), { sound_picture: 3 }));
  };
  // Answers keep only the meeting's day: the period is cut at midnight of the day it ends, on the
  // clinic's clock (a meeting at 00:30 in Stockholm is that day's, though the evening before in UTC).
  const cutDay = toClinicTime(ago(answersDays)).date;
  await answered(fromClinicTime(addDays(cutDay, -1), '23:30'), 's:old');
  await answered(fromClinicTime(cutDay, '00:30'), 's:young');

  // An invitation sent for each meeting: the old one's address and data go with the contacts.
  const sentFor = async (meetingId: string) => {
    const id = (await enqueue(db, app.config.dataKey, {
      channel: 'email',
      kind: 'invitation',
      recipient: 'eva@skola.example',
      language: 'sv',
      meetingId,
      data: { name: 'Eva Ek' },
    }))!;
    await db('outbox_messages').where({ id }).update({ status: 'sent' });
    return id;
  };
  const oldMessage = await sentFor(oldMeeting);
  const youngMessage = await sentFor(youngMeeting);

  const counts = await purge(db, app.config.retention, 'cli', now);
  t.deepEqual(counts, {
    connlogEntries: 1,
    techtestResults: 0,
    evaluationResponses: 1,
    evaluationRespondents: 1,
    participantContacts: 2,
    messageContacts: 1,
    // No failed login here: the typed addresses' purge is tested in test/audit/typed-address.ts.
    loginAddresses: 0,
  });
  t.like(await db('outbox_messages').where({ id: oldMessage }).first(), { recipient: '', data: '{}', status: 'sent' });
  t.like(await db('outbox_messages').where({ id: youngMessage }).first(), { recipient: 'eva@skola.example' });

  t.deepEqual((await db('connlog_entries').where('type', 'like', 'test_%')).map((r) => r.type).sort(), [
    'test_ahead',
    'test_young',
  ]);
  t.deepEqual(
    (await db('evaluation_respondents').where({ meeting_id: youngMeeting })).map((r) => r.subject),
    ['s:young'],
  );
  const old = present(await findMeeting(db, oldMeeting), 'the old meeting');
  t.deepEqual(
    old.participants.map((p) => [
      p.name,
      p.mobile,
      p.email,
      p.personalNumberMasked,
      p.proxy?.mobile ?? null,
      p.proxy?.email ?? null,
    ]),
    [
      ['Sara Lind', null, null, null, null, null],
      ['Eva Ek', null, null, null, null, null],
    ],
  );
  t.is(await personalNumberOf(db, present(old.participants[0], 'the old patient').id, app.config.dataKey), null);
  const young = present(await findMeeting(db, youngMeeting), 'the young meeting');
  const youngPatient = present(young.participants[0], 'the young patient');
  t.is(youngPatient.mobile, '+46701234567');
  t.is(present(youngPatient.proxy, "the young patient's proxy").email, 'per@example.org');
  t.is(await personalNumberOf(db, youngPatient.id, app.config.dataKey), '191212121212');

  const audit = present((await findAudit(db, { action: 'retention.purge' }))[0], 'the audit record of the purge');
  t.like(audit.details, { connlogEntries: 1, evaluationResponses: 1, participantContacts: 2, via: 'cli' });
  t.deepEqual(
    await purge(db, app.config.retention, 'cli', now),
    {
      connlogEntries: 0,
      techtestResults: 0,
      evaluationResponses: 0,
      evaluationRespondents: 0,
      participantContacts: 0,
      messageContacts: 0,
      loginAddresses: 0,
    },
    'a second run finds nothing',
  );
}

for (const database of others) {
  test(`the connection log's purge touches only meetings that still have entries, not every meeting ever held (${database.kind})`, async (t) => {
    const app = await startServer({ database });
    try {
      const db = app.server.app.db;
      const { staff } = await app.staff('clinician');
      const now = new Date('2026-11-20T12:00:00.000Z');
      const held = (daysAgo: number) => meetingOf(db, staff, 'Historia', new Date(now.getTime() - daysAgo * day));
      // Years of meetings whose logs went long ago, and one whose entries are due today.
      const history: string[] = [];
      for (let i = 0; i < 600; i++) history.push(await held(200 + i));
      const due = await held(190);
      await insertEntry(db, {
        at: new Date(now.getTime() - 191 * day),
        meetingId: due,
        participantId: null,
        type: 'meeting_booked',
        details: {},
      });
      const seen: { sql: string; bindings: readonly unknown[] }[] = [];
      const listen = (q: { sql: string; bindings?: readonly unknown[] }) =>
        seen.push({ sql: q.sql, bindings: q.bindings ?? [] });
      db.on('query', listen);
      let counts;
      try {
        counts = await purge(db, app.config.retention, 'cli', now);
      } finally {
        db.removeListener('query', listen);
      }
      t.is(counts.connlogEntries, 1);
      // What the connection log's statements were handed: the one meeting with entries, not the 600 without.
      const handed = seen
        .filter((q) => q.sql.includes('connlog_entries'))
        .flatMap((q) => q.bindings)
        .filter((b) => typeof b === 'string' && history.includes(b));
      t.deepEqual(handed, []);
    } finally {
      await app.stop();
    }
  });
}

for (const database of histories) {
  test(`the contact data's purge and the keyed numbers' asks only about rows that still hold them, not every meeting ever held (${database.kind})`, async (t) => {
    const app = await startServer({ database });
    try {
      const db = app.server.app.db;
      const { staff } = await app.staff('clinician');
      const now = new Date();
      const held = async (daysAgo: number) => {
        const id = await meetingOf(db, staff, 'Historia', new Date(now.getTime() - daysAgo * day));
        await insertParticipants(
          db,
          id,
          [
            {
              kind: 'patient',
              identification: 'bankid',
              name: 'Sara Lind',
              country: 'SE',
              mobile: '+46701234567',
              email: null,
              personalNumber: '191212121212',
              staffId: null,
              proxy: null,
              language: 'sv',
            },
          ],
          0,
          app.config.dataKey,
        );
        await enqueue(db, app.config.dataKey, {
          channel: 'sms',
          kind: 'invitation',
          recipient: '+46701234567',
          language: 'sv',
          meetingId: id,
          data: { name: 'Sara Lind' },
        });
        await db('outbox_messages').where({ meeting_id: id }).update({ status: 'sent' });
        return id;
      };
      // Years of meetings whose contact data (and, past the audit log's ten years, keyed numbers)
      // went long ago, and one meeting whose contact data is due today.
      const history: string[] = [];
      for (let i = 0; i < 300; i++) history.push(await held(100 + i * 14));
      await purge(db, app.config.retention, 'cli', now);
      await purgeAuditLog(db, now);
      t.is(
        await db('participants')
          .whereIn('meeting_id', history)
          .whereNotNull('mobile')
          .count({ n: '*' })
          .first()
          .then((r) => Number(r?.n)),
        0,
      );
      const due = await held(app.config.retention.contactsDays + 1);

      const seen: { sql: string; bindings: readonly unknown[] }[] = [];
      const listen = (q: { sql: string; bindings?: readonly unknown[] }) =>
        seen.push({ sql: q.sql, bindings: q.bindings ?? [] });
      db.on('query', listen);
      let counts;
      try {
        counts = await purge(db, app.config.retention, 'cli', now);
        await purgeAuditLog(db, now);
      } finally {
        db.removeListener('query', listen);
      }
      t.is(counts.participantContacts, 1);
      t.is(counts.messageContacts, 1);
      t.like(await db('participants').where({ meeting_id: due }).first(), {
        mobile: null,
        personal_number_sealed: null,
      });
      // No statement was handed a meeting of the history: each step found what still holds its data.
      const handed = seen.flatMap((q) => q.bindings).filter((b) => typeof b === 'string' && history.includes(b));
      t.deepEqual(handed, []);
      // Nor read them all at once: no statement lists the meetings started before a cut-off.
      t.deepEqual(
        seen.filter((q) => /from .?meetings.? where .?starts_at.? < \?$/.test(q.sql)).map((q) => q.sql),
        [],
      );
    } finally {
      await app.stop();
    }
  });
}

test('samverka purge reports its counts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'samverka-purge-'));
  try {
    const lines: string[] = [];
    const code = await run(
      ['purge'],
      { DATA_DIR: dir, DATABASE_URL: `sqlite:${join(dir, 'purge.db')}`, LOG_LEVEL: 'silent' },
      (s) => (lines.push(s), true),
    );
    t.is(code, 0);
    t.regex(
      lines.join('\n'),
      /deleted 0 connection log entries, 0 evaluation answers and 0 evaluation respondents; erased the contact data of 0 participants/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
