// Retention of what support reads besides the connection log: a participant's tech test results
// (their devices' names - "Annas AirPods" -, browser, network) go with the connection log's
// entries of the same tests, once the log's period (RETENTION_CONNLOG_DAYS) has passed.
import test from 'ava';
import { noFigures } from '../../admin/client/techtest/network.ts';
import { purge } from '../../appliance/src/admin/retention.ts';
import { insertResult } from '../../appliance/src/techtest/store.ts';
import type { TechTestResult } from '../../appliance/src/techtest/model.ts';
import { enqueue } from '../../appliance/src/invites/outbox.ts';
import { insertMeeting } from '../../appliance/src/meetings/store.ts';
import { present } from '../helpers/present.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer({ env: { REMINDER_OFFSETS: 'none' } });
});
test.after.always(() => app?.stop());

const result = (participantId: string, testedAt: Date): Omit<TechTestResult, 'id'> => ({
  subject: { type: 'participant', id: participantId },
  camera: 'yes',
  microphone: 'detected',
  microphoneLevel: 0.4,
  sound: 'yes',
  devices: { camera: 'Annas iPhone-kamera', microphone: 'Annas AirPods', speaker: 'Annas AirPods' },
  network: noFigures(),
  verdict: 'good',
  browser: 'Safari 17',
  os: 'iOS 17',
  testedAt,
});

test.serial(
  "a message still queued when its meeting's contact data goes (a gateway down for months) loses its address and is never sent",
  async (t) => {
    const db = app.server.app.db;
    const { staff } = await app.staff('clinician');
    const now = new Date();
    const period = app.config.retention.contactsDays * 86_400_000;
    const meetingId = await insertMeeting(db, {
      unitId: staff.unitId,
      title: 'Uppföljning',
      startsAt: new Date(now.getTime() - period - 2 * 3600_000),
      durationMinutes: 60,
      bookedBy: staff.id,
      ledBy: staff.id,
      documentationPlan: 'Journal',
      testMeeting: false,
    });
    const queued = present(
      await enqueue(db, app.config.dataKey, {
        channel: 'sms',
        kind: 'reminder',
        recipient: '+46701239876',
        language: 'sv',
        meetingId,
        data: { name: 'Eva Ek' },
        // Waiting for its next try, as behind a gateway that has not answered.
        notBefore: new Date(now.getTime() + 3600_000),
      }),
      'the queued message',
    );

    const counts = await purge(db, app.config.retention, 'cli', now);
    t.is(counts.messageContacts, 1);
    t.like(await db('outbox_messages').where({ id: queued }).first(), { recipient: '', data: '{}', status: 'failed' });
  },
);

test("tech test results go once the connection log's period has passed, and younger ones stay", async (t) => {
  const db = app.server.app.db;
  const now = new Date('2026-11-20T12:00:00.000Z');
  const period = app.config.retention.connlogDays * 86_400_000;
  const old = await insertResult(
    db,
    result('c0ffee00-0000-4000-8000-00000000000a', new Date(now.getTime() - period - 1000)),
  );
  const young = await insertResult(
    db,
    result('c0ffee00-0000-4000-8000-00000000000b', new Date(now.getTime() - period + 1000)),
  );

  const counts = await purge(db, app.config.retention, 'cli', now);
  t.is(counts.techtestResults, 1);
  t.deepEqual(
    (await db('techtest_results').whereIn('id', [old.id, young.id])).map((r: { id: string }) => r.id),
    [young.id],
  );
});
