// Privacy requests: a participant's data exported whole (JSON), and their contact data erased on
// request while the meeting's record and the audit trail stay.
import test, { type ExecutionContext } from 'ava';
import { findAudit } from '../../appliance/src/audit/store.ts';
import { insertEntry, timeline } from '../../appliance/src/connlog/store.ts';
import { resultsOf } from '../../appliance/src/techtest/store.ts';
import { participantSubject } from '../../appliance/src/techtest/model.ts';
import { recordResult } from '../../appliance/src/techtest/service.ts';
import { findParticipant, personalNumberOf } from '../../appliance/src/meetings/store.ts';
import { present } from '../helpers/present.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { booking, loggedIn, patientWithBankId, teacherByEmail } from '../meetings/_booking.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer({ env: { REMINDER_OFFSETS: 'none' } });
});
test.after.always(() => app?.stop());

async function bookedMeeting() {
  const { client } = await loggedIn(app, 'clinician');
  const patient = patientWithBankId('Tolvan Tolvansson', '19121212-1212');
  const reply = await client.request('POST', '/api/v1/meetings', {
    json: booking({ participants: [patient, teacherByEmail] }),
  });
  const meeting = reply.json<{ id: string; participants: { id: string; name: string }[] }>();
  const [patientBooked, teacherBooked] = meeting.participants;
  return { ...meeting, patient: present(patientBooked, 'the patient'), teacher: present(teacherBooked, 'the teacher') };
}

/** A meeting with a patient invited by SMS and represented by a proxy. */
async function bookedWithProxy(
  t: ExecutionContext,
  name: string,
  mobile: string,
  proxy: { name: string; mobile: string; email: string },
) {
  const { client } = await loggedIn(app, 'clinician');
  const reply = await client.request('POST', '/api/v1/meetings', {
    json: booking({ participants: [{ kind: 'patient_proxy', name, mobile, identification: 'sms', proxy }] }),
  });
  t.is(reply.status, 201, reply.text);
  const meeting = reply.json<{ id: string; participants: { id: string }[] }>();
  return { meeting, patientId: present(meeting.participants[0], 'the patient').id };
}

/** A technical test's answers, with these device names and round trip. */
const testAnswers = (
  devices: { camera: string | null; microphone: string | null; speaker: string | null },
  rttMs: number | null,
) =>
  ({
    camera: 'yes',
    microphone: 'detected',
    microphoneLevel: 0.2,
    sound: 'yes',
    devices,
    network: {
      relayConfigured: false,
      relayUdp: null,
      relayTcp: null,
      rttMs,
      jitterMs: null,
      loss: null,
      throughputKbps: null,
      downloadKbps: 20_000,
      uploadKbps: 8000,
      durationMs: 3000,
    },
  }) as const;

test('an admin exports everything held about a participant as JSON, and the export is audited', async (t) => {
  const meeting = await bookedMeeting();
  const patientId = meeting.patient.id;
  const { client: admin, staff } = await loggedIn(app, 'admin');
  const page = await admin.get(`/admin/privacy?meeting=${meeting.id}`);
  t.is(page.status, 200);
  t.regex(page.text, /Tolvan Tolvansson/);
  const reply = await admin.get(`/admin/privacy/participants/${patientId}/export`);
  t.is(reply.status, 200);
  t.regex(reply.headers.get('content-disposition') ?? '', /attachment/);
  const data = reply.json();
  t.is(data.participant.name, 'Tolvan Tolvansson');
  t.is(data.participant.personalNumber, '191212121212');
  t.is(data.participant.mobile, '+46707654321');
  t.is(data.meeting.id, meeting.id);
  t.true(data.messages.length >= 1, 'the invitation sent to them');
  t.true(data.staffAccesses.some((a: { action: string }) => a.action === 'meeting.book'));
  const [record] = await findAudit(app.server.app.db, { staffId: staff.id, action: 'privacy.export' });
  t.is(record?.participantId, patientId);
  t.is((await admin.get('/admin/privacy/participants/00000000-0000-4000-8000-000000000000/export')).status, 404);
});

test('erasing a participant removes their contact data and unsent messages, and keeps name and audit trail', async (t) => {
  const meeting = await bookedMeeting();
  const patientId = meeting.patient.id;
  const { client: admin } = await loggedIn(app, 'admin');
  await admin.get(`/admin/privacy?meeting=${meeting.id}`);
  t.is(
    (await admin.submit(`/admin/privacy/participants/${patientId}/erase`, {})).status,
    400,
    'only with the confirmation ticked',
  );
  const erased = await admin.submit(`/admin/privacy/participants/${patientId}/erase`, { confirm: 'yes' });
  t.is(erased.status, 302);
  t.regex((await admin.get(erased.headers.get('location')!)).text, /Kontaktuppgifterna är raderade/);

  const db = app.server.app.db;
  const after = await findParticipant(db, patientId);
  t.is(after?.name, 'Tolvan Tolvansson');
  t.is(after?.mobile, null);
  t.is(after?.personalNumberMasked, null);
  t.is(await personalNumberOf(db, patientId, app.config.dataKey), null);
  const messages = await db('outbox_messages').where({ participant_id: patientId });
  t.true(messages.length > 0);
  t.true(
    messages.every(
      (m: { recipient: string; status: string }) =>
        m.recipient === '' && ['failed', 'sent', 'delivered'].includes(m.status),
    ),
  );
  const teacher = await findParticipant(db, meeting.teacher.id);
  t.is(teacher?.email, 'eva.ek@skola.example', 'other participants are untouched');
  const trail = await findAudit(db, { participantId: patientId });
  t.deepEqual(trail.map((r) => r.action).includes('privacy.erase'), true);
});

test('privacy pages are for admins only', async (t) => {
  const meeting = await bookedMeeting();
  const { client } = await loggedIn(app, 'clinician');
  t.is((await client.get(`/admin/privacy/participants/${meeting.patient.id}/export`)).status, 403);
  t.is((await client.get(`/admin/privacy?meeting=${meeting.id}`)).status, 403);
});

test("the export holds the participant's connection log and every technical test they took; their proxy's tests are in the proxy's export", async (t) => {
  const { meeting, patientId } = await bookedWithProxy(t, 'Hemulen', '070-111 22 55', {
    name: 'Filifjonkan Ombud',
    mobile: '070-444 55 88',
    email: 'filifjonkan@example.org',
  });
  const db = app.server.app.db;
  // What the meeting page reported from their browser: their address among it.
  await insertEntry(db, {
    at: new Date(),
    meetingId: meeting.id,
    participantId: patientId,
    type: 'client_cameraError',
    details: { person: 'main', browser: 'Chrome 126', address: '203.0.113.7' },
  });
  const answers = testAnswers({ camera: 'FaceTime HD Camera', microphone: null, speaker: null }, null);
  const deps = { db, bus: app.server.app.bus };
  const main = participantSubject({ participantId: patientId, person: 'main' });
  const proxy = participantSubject({ participantId: patientId, person: 'proxy' });
  await recordResult(deps, main, answers, undefined, new Date(Date.now() - 60_000));
  await recordResult(deps, main, answers, undefined);
  await recordResult(deps, proxy, answers, undefined);

  const { client: admin } = await loggedIn(app, 'admin');
  const data = (await admin.get(`/admin/privacy/participants/${patientId}/export`)).json();
  t.true(
    data.connectionLog.some((e: { details: { address?: string } }) => e.details.address === '203.0.113.7'),
    'the address the meeting page reported from',
  );
  t.deepEqual(
    data.techTests.map((r: { subject: { id: string } }) => r.subject.id),
    [main.id, main.id],
    'every test the patient took, and not the proxy’s: patient and proxy are two people',
  );
  const theirs = (await admin.get(`/admin/privacy/participants/${patientId}/export?person=proxy`)).json();
  t.deepEqual(
    theirs.techTests.map((r: { subject: { id: string } }) => r.subject.id),
    [proxy.id],
    'the proxy’s test is in the proxy’s export',
  );
});

test("a proxy's erasure request erases the proxy's contact data and messages, and the patient's stay (and the reverse)", async (t) => {
  const { meeting, patientId } = await bookedWithProxy(t, 'Lilla My', '070-111 22 33', {
    name: 'Mymlan Ombud',
    mobile: '070-444 55 66',
    email: 'mymlan@example.org',
  });
  const db = app.server.app.db;
  const recipients = async () =>
    (await db('outbox_messages').where({ participant_id: patientId }).orderBy('recipient')).map(
      (m: { recipient: string }) => m.recipient,
    );
  t.deepEqual(await recipients(), ['+46701112233', '+46704445566'], 'one invitation each');

  const { client: admin } = await loggedIn(app, 'admin');
  const page = await admin.get(`/admin/privacy?meeting=${meeting.id}`);
  t.true(page.text.includes('Mymlan Ombud'), 'the proxy has a row of their own');
  t.true(page.text.includes('Radera kontaktuppgifter för Mymlan Ombud'));

  const erased = await admin.submit(`/admin/privacy/participants/${patientId}/erase`, {
    confirm: 'yes',
    person: 'proxy',
  });
  t.is(erased.status, 302);
  const after = present(await findParticipant(db, patientId), 'the patient');
  t.is(after.mobile, '+46701112233', "the patient's own number stays");
  t.like(after.proxy, { name: 'Mymlan Ombud', mobile: null, email: null });
  t.deepEqual(await recipients(), ['', '+46701112233'], "only the proxy's message lost its address");

  t.is(
    (await admin.submit(`/admin/privacy/participants/${patientId}/erase`, { confirm: 'yes', person: 'main' })).status,
    302,
  );
  t.is(present(await findParticipant(db, patientId), 'the patient').mobile, null);
  t.deepEqual(await recipients(), ['', '']);
  const records = await findAudit(db, { participantId: patientId, action: 'privacy.erase' });
  t.deepEqual(records.map((r) => r.details?.person).sort(), ['main', 'proxy'], 'the audit says whose data went');
  t.is(
    (await admin.submit(`/admin/privacy/participants/${patientId}/erase`, { confirm: 'yes', person: 'someone' }))
      .status,
    400,
  );
});

test("a proxy's data export holds the proxy's own data, not the patient's", async (t) => {
  const { meeting, patientId } = await bookedWithProxy(t, 'Snusmumriken', '070-111 22 44', {
    name: 'Snorkfröken Ombud',
    mobile: '070-444 55 77',
    email: 'snorkfroken@example.org',
  });

  const { client: admin } = await loggedIn(app, 'admin');
  const page = await admin.get(`/admin/privacy?meeting=${meeting.id}`);
  t.true(
    page.text.includes(`/admin/privacy/participants/${patientId}/export?person=proxy`),
    "the proxy's row exports theirs",
  );
  const exported = await admin.get(`/admin/privacy/participants/${patientId}/export?person=proxy`);
  t.is(exported.status, 200);
  const data = exported.json();
  t.like(data.participant, { name: 'Snorkfröken Ombud', mobile: '+46704445577', email: 'snorkfroken@example.org' });
  t.true(data.messages.length >= 1, 'the invitation sent to the proxy');
  t.false(JSON.stringify(data).includes('+46701112244'), "the patient's number is not the proxy's to have");
  t.is((await admin.get(`/admin/privacy/participants/${patientId}/export?person=someone`)).status, 400);
});

test("a participant's data export leaves out their proxy's contact data and personal number: those are the proxy's own", async (t) => {
  const { client } = await loggedIn(app, 'clinician');
  const reply = await client.request('POST', '/api/v1/meetings', {
    json: booking({
      participants: [
        {
          kind: 'patient_proxy',
          name: 'Tooticki Barn',
          personalNumber: '19121212-1212',
          identification: 'bankid',
          mobile: '070-111 22 55',
          proxy: {
            name: 'Too Förälder',
            personalNumber: '19800101-0001',
            mobile: '070-444 55 88',
            email: 'too@example.org',
          },
        },
      ],
    }),
  });
  t.is(reply.status, 201, reply.text);
  const patientId = present(reply.json<{ participants: { id: string }[] }>().participants[0], 'the patient').id;

  const { client: admin } = await loggedIn(app, 'admin');
  const mine = await admin.get(`/admin/privacy/participants/${patientId}/export`);
  t.is(mine.status, 200);
  t.is(mine.json().participant.personalNumber, '191212121212');
  t.is(mine.json().participant.proxy.name, 'Too Förälder', "who represented them is the patient's record");
  for (const text of ['198001010001', '+46704445588', 'too@example.org'])
    t.false(mine.text.includes(text), `the proxy's ${text} is not the patient's to have`);
  const theirs = (await admin.get(`/admin/privacy/participants/${patientId}/export?person=proxy`)).json();
  t.is(theirs.participant.personalNumber, '198001010001', 'the proxy gets it in their own');
});

test("an erasure takes the person's address, browser and devices out of their connection log and tests, and keeps what happened when", async (t) => {
  const { meeting, patientId } = await bookedWithProxy(t, 'Snusmumriken', '070-222 33 44', {
    name: 'Snorkfröken Ombud',
    mobile: '070-555 66 77',
    email: 'snorkfroken@example.org',
  });
  const db = app.server.app.db;
  const at = new Date(Date.now() - 120_000);
  const logged = (person: 'main' | 'proxy', type: string, details: Record<string, string | number>) =>
    insertEntry(db, {
      at,
      meetingId: meeting.id,
      participantId: patientId,
      type,
      details: { person, ...details },
    });
  const personal = { browser: 'Chrome 126', os: 'Android 14', address: '203.0.113.9' };
  await logged('main', 'client_cameraError', { ...personal, errorName: 'NotReadableError' });
  await logged('main', 'link_refused', { problem: 'used', browser: 'Firefox 128', os: 'Windows' });
  await logged('main', 'techtest', {
    verdict: 'failed',
    cameraDevice: 'Snusmumrikens webbkamera',
    rttMs: 40,
    ...personal,
  });
  await logged('proxy', 'client_micError', { ...personal, address: '198.51.100.4' });
  const answers = testAnswers({ camera: 'Snusmumrikens webbkamera', microphone: 'Headset', speaker: 'Headset' }, 40);
  const deps = { db, bus: app.server.app.bus };
  const main = participantSubject({ participantId: patientId, person: 'main' });
  const proxy = participantSubject({ participantId: patientId, person: 'proxy' });
  await recordResult(deps, main, answers, personal.browser);
  await recordResult(deps, proxy, answers, personal.browser);
  // Those the meeting page, the link and the tests wrote (the invitations go on being sent meanwhile).
  const entries = async (person: 'main' | 'proxy') =>
    (await timeline(db, { meetingId: meeting.id, participantId: patientId }))
      .filter((e) => (e.details.person === 'proxy') === (person === 'proxy') && !e.type.startsWith('message_'))
      .map((e) => ({ type: e.type, at: e.at.toISOString(), error: e.error, details: e.details }));
  const before = await entries('main');

  const { client: admin } = await loggedIn(app, 'admin');
  t.is((await admin.submit(`/admin/privacy/participants/${patientId}/erase`, { confirm: 'yes' })).status, 302);
  const after = await entries('main');
  // The same events at the same times (support's statistics), none of what identified the person's device.
  t.deepEqual(
    after.map(({ type, at, error }) => ({ type, at, error })),
    before.map(({ type, at, error }) => ({ type, at, error })),
  );
  for (const entry of after) {
    for (const key of ['address', 'browser', 'os', 'cameraDevice', 'microphoneDevice', 'speakerDevice'])
      t.false(key in entry.details, `${entry.type} keeps no ${key}`);
  }
  t.like(
    present(
      after.find((e) => e.type === 'client_cameraError'),
      'the camera error',
    ).details,
    {
      person: 'main',
      errorName: 'NotReadableError',
    },
  );
  t.like(
    present(
      after.find((e) => e.type === 'techtest' && e.details.rttMs === 40),
      'the logged test',
    ).details,
    { verdict: 'failed' },
  );
  t.like(
    present(
      after.find((e) => e.type === 'link_refused'),
      'the refused link',
    ).details,
    { problem: 'used' },
  );
  const [tested] = await resultsOf(db, main);
  t.like(present(tested, "the patient's test"), {
    browser: '',
    os: '',
    devices: { camera: null, microphone: null, speaker: null },
    network: { rttMs: 40, downloadKbps: 20_000 },
  });
  // The proxy's are the proxy's, erased on their own request.
  t.like(
    present(
      (await entries('proxy')).find((e) => e.type === 'client_micError'),
      "the proxy's error",
    ).details,
    {
      address: '198.51.100.4',
    },
  );
  t.like(present((await resultsOf(db, proxy))[0], "the proxy's test").devices, { camera: 'Snusmumrikens webbkamera' });
  t.is(
    (await admin.submit(`/admin/privacy/participants/${patientId}/erase`, { confirm: 'yes', person: 'proxy' })).status,
    302,
  );
  const proxyAfter = present(
    (await entries('proxy')).find((e) => e.type === 'client_micError'),
    "the proxy's error",
  );
  t.false('address' in proxyAfter.details);
  t.false('browser' in proxyAfter.details);
  t.like(present((await resultsOf(db, proxy))[0], "the proxy's test"), { browser: '', devices: { camera: null } });
});

test("the connection log's entries of the messages to a proxy are in the proxy's export, not the patient's", async (t) => {
  const { patientId } = await bookedWithProxy(t, 'Rådd-djuret', '070-111 22 77', {
    name: 'Too-ticki Ombud',
    mobile: '070-444 55 11',
    email: 'tooticki@example.org',
  });
  const { client: admin } = await loggedIn(app, 'admin');
  const messageEntries = async (person: string) =>
    (
      (await admin.get(`/admin/privacy/participants/${patientId}/export?person=${person}`)).json().connectionLog as {
        type: string;
      }[]
    ).filter((e) => e.type === 'message_queued');
  t.is((await messageEntries('main')).length, 1, "the patient's own invitation");
  t.is((await messageEntries('proxy')).length, 1, "the proxy's invitation, in the proxy's export");
});

test('a meeting id pasted with spaces finds the meeting; a mistyped one keeps the form and says the meeting was not found, no error page', async (t) => {
  const meeting = await bookedMeeting();
  const { client } = await loggedIn(app, 'admin');
  const pasted = await client.get(`/admin/privacy?meeting=${encodeURIComponent(`  ${meeting.id} `)}`);
  t.is(pasted.status, 200);
  t.regex(pasted.text, /Tolvan Tolvansson/);
  const typo = await client.get(`/admin/privacy?meeting=${meeting.id.slice(0, -1)}x`);
  t.is(typo.status, 200);
  t.regex(typo.text, /<p class="error" role="alert">Mötet finns inte eller har ingen patient\.<\/p>/);
  t.regex(typo.text, new RegExp(`name="meeting" value="${meeting.id.slice(0, -1)}x"`), 'what was typed stays');
  t.notRegex(typo.text, /Felkod/);
});
