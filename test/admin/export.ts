// A participant's export (GDPR art. 15) holds what the appliance keeps about them, including the
// connection log's entries about them: when they came and went, their browser, their address.
import test from 'ava';
import { noFigures } from '../../admin/client/techtest/network.ts';
import { insertEntry } from '../../appliance/src/connlog/store.ts';
import { insertResult } from '../../appliance/src/techtest/store.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { booking, loggedIn, patientWithBankId } from '../meetings/_booking.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer({ env: { REMINDER_OFFSETS: 'none' } });
});
test.after.always(() => app?.stop());

test("the export holds the connection log's entries about the participant, and only theirs", async (t) => {
  const { client } = await loggedIn(app, 'clinician');
  const reply = await client.request('POST', '/api/v1/meetings', {
    json: booking({
      participants: [
        patientWithBankId('Tolvan Tolvansson', '19121212-1212'),
        { kind: 'guest', name: 'Eva Ek', email: 'eva@skola.example', identification: 'none' },
      ],
    }),
  });
  const meeting = reply.json<{ id: string; participants: { id: string }[] }>();
  const [patientId = '', guestId = ''] = meeting.participants.map((p) => p.id);
  // What the patient's meeting page reported (connlog/client-events.ts), and the guest's.
  for (const [participantId, address] of [
    [patientId, '203.0.113.7'],
    [guestId, '198.51.100.9'],
  ] as const)
    await insertEntry(app.server.app.db, {
      at: new Date(),
      meetingId: meeting.id,
      participantId,
      type: 'client_joined',
      details: { browser: 'Firefox 128', os: 'Windows 11', address },
    });

  const { client: admin } = await loggedIn(app, 'admin');
  const exported = await admin.get(`/admin/privacy/participants/${patientId}/export`);
  t.is(exported.status, 200);
  const log = exported.json<{ connectionLog?: { type: string; details: Record<string, unknown> }[] }>().connectionLog;
  t.truthy(log, 'the export has the connection log');
  t.true(log?.some((e) => e.type === 'client_joined' && e.details.address === '203.0.113.7'));
  t.false(exported.text.includes('198.51.100.9'), "another participant's entries stay out");
});

test('the export holds every tech test the participant took, not only the last', async (t) => {
  const { client } = await loggedIn(app, 'clinician');
  const reply = await client.request('POST', '/api/v1/meetings', {
    json: booking({ participants: [patientWithBankId('Tolvan Tolvansson', '19121212-1212')] }),
  });
  const patientId = reply.json<{ participants: { id: string }[] }>().participants[0]?.id ?? '';
  for (const [at, camera] of [
    ['2026-11-20T09:00:00Z', 'Annas gamla webbkamera'],
    ['2026-11-21T09:00:00Z', 'Annas iPhone-kamera'],
  ] as const)
    await insertResult(app.server.app.db, {
      subject: { type: 'participant', id: patientId },
      camera: 'yes',
      microphone: 'detected',
      microphoneLevel: 0.4,
      sound: 'yes',
      devices: { camera, microphone: null, speaker: null },
      network: noFigures(),
      verdict: 'good',
      browser: 'Safari 17',
      os: 'iOS 17',
      testedAt: new Date(at),
    });
  const { client: admin } = await loggedIn(app, 'admin');
  const exported = await admin.get(`/admin/privacy/participants/${patientId}/export`);
  t.is(exported.status, 200);
  t.true(exported.text.includes('Annas iPhone-kamera'));
  t.true(exported.text.includes('Annas gamla webbkamera'), 'the earlier test is held too');
});
