// Who may see and change which meetings: clinicians their own unit's, admins all, support reads
// what the logs need; and every access, lists included, leaves an audit record.
import test from 'ava';
import { findAudit } from '../../appliance/src/audit/store.ts';
import { createToken } from '../../appliance/src/staff/service.ts';
import { present } from '../helpers/present.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { until } from '../helpers/wait.ts';
import { booking, inDays, loggedIn } from './_booking.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer();
});
test.after.always(() => app?.stop());

const unitA = 'Barn- och ungdomsmedicin';
const unitB = 'Ortopedi';

async function bookedMeeting(unit = unitA) {
  const { client, staff } = await loggedIn(app, 'clinician', unit);
  const reply = await client.request('POST', '/api/v1/meetings', { json: booking() });
  if (reply.status !== 201) throw new Error(reply.text);
  return { meeting: reply.json(), client, staff };
}

const period = `from=${encodeURIComponent(inDays(0, 0))}&to=${encodeURIComponent(inDays(7, 0))}`;

test("a clinician sees and changes their own unit's meetings, also those a colleague booked", async (t) => {
  const { meeting } = await bookedMeeting();
  const { client } = await loggedIn(app, 'clinician', unitA);
  t.is((await client.get(`/api/v1/meetings/${meeting.id}`)).status, 200);
  const list = (await client.get(`/api/v1/meetings?${period}`)).json();
  t.true(list.meetings.some((m: any) => m.id === meeting.id));
  const cancel = await client.request('POST', `/api/v1/meetings/${meeting.id}/cancel`, {
    json: { version: 1, reason: 'Patienten är sjuk' },
  });
  t.is(cancel.status, 200, cancel.text);
});

test('a clinician of another unit can neither see nor change the meeting', async (t) => {
  const { meeting } = await bookedMeeting();
  const { client, staff } = await loggedIn(app, 'clinician', unitB);
  const read = await client.get(`/api/v1/meetings/${meeting.id}`);
  t.is(read.status, 403);
  t.regex(read.json().message, /annan vårdenhet/);
  t.false(read.text.includes('Sara Lind'));
  t.is(
    (await client.request('PATCH', `/api/v1/meetings/${meeting.id}`, { json: { version: 1, title: 'Kapad' } })).status,
    403,
  );
  t.is(
    (await client.request('POST', `/api/v1/meetings/${meeting.id}/cancel`, { json: { version: 1, reason: 'x' } }))
      .status,
    403,
  );
  t.is(
    (
      await client.request(
        'DELETE',
        `/api/v1/meetings/${meeting.id}/participants/${meeting.participants[1].id}?version=1`,
        { headers: { 'x-csrf-token': client.crumb! } },
      )
    ).status,
    403,
  );
  const list = (await client.get(`/api/v1/meetings?${period}`)).json();
  t.false(list.meetings.some((m: any) => m.id === meeting.id));
  const other = await app.server.app.db('care_units').where({ name: unitA }).first();
  t.is((await client.get(`/api/v1/meetings?${period}&unitId=${other.id}`)).status, 403);
  const denied = await findAudit(app.server.app.db, { staffId: staff.id, action: 'meeting.denied' });
  t.true(denied.some((r) => r.meetingId === meeting.id));
});

test('a colleague from another unit invited to the meeting can read it', async (t) => {
  const { staff: colleague, password } = await app.staff('clinician', unitB);
  const { client } = await loggedIn(app, 'clinician', unitA);
  const reply = await client.request('POST', '/api/v1/meetings', {
    json: booking({ participants: [booking().participants[0], { kind: 'colleague', staffId: colleague.id }] }),
  });
  const meeting = reply.json();
  const colleagueClient = app.client();
  await colleagueClient.login(colleague.email, password);
  t.is((await colleagueClient.get(`/api/v1/meetings/${meeting.id}`)).status, 200);
  t.is(
    (
      await colleagueClient.request('POST', `/api/v1/meetings/${meeting.id}/cancel`, {
        json: { version: 1, reason: 'x' },
      })
    ).status,
    403,
  );
});

test("an admin sees and changes every unit's meetings and may book for any unit", async (t) => {
  const { meeting } = await bookedMeeting(unitB);
  const { client } = await loggedIn(app, 'admin', 'Administration');
  t.is((await client.get(`/api/v1/meetings/${meeting.id}`)).status, 200);
  t.is(
    (await client.request('PATCH', `/api/v1/meetings/${meeting.id}`, { json: { version: 1, title: 'Ny rubrik' } }))
      .status,
    200,
  );
  const unit = await app.server.app.db('care_units').where({ name: unitB }).first();
  const booked = await client.request('POST', '/api/v1/meetings', { json: booking({ unitId: unit.id }) });
  t.is(booked.status, 201, booked.text);
  t.is(booked.json().unitId, unit.id);
});

test('a clinician cannot book for another unit', async (t) => {
  const { client } = await loggedIn(app, 'clinician', unitA);
  await loggedIn(app, 'clinician', unitB);
  const unit = await app.server.app.db('care_units').where({ name: unitB }).first();
  const reply = await client.request('POST', '/api/v1/meetings', { json: booking({ unitId: unit.id }) });
  t.is(reply.status, 403);
});

test('support reads meetings without contact details and changes nothing', async (t) => {
  const { meeting } = await bookedMeeting();
  const { client } = await loggedIn(app, 'support', 'IT-support');
  const read = await client.get(`/api/v1/meetings/${meeting.id}`);
  t.is(read.status, 200);
  const seen = read.json();
  t.is(seen.participants[0].name, 'Sara Lind');
  t.truthy(seen.participants[0].status, 'how far each came is what the logs need');
  t.is(seen.participants[0].mobile, null);
  t.is(seen.participants[1].email, null);
  t.is(seen.documentationPlan, '');
  t.false(read.text.includes('+46701234567'));
  t.is((await client.request('POST', '/api/v1/meetings', { json: booking() })).status, 403);
  t.is(
    (await client.request('POST', `/api/v1/meetings/${meeting.id}/cancel`, { json: { version: 1, reason: 'x' } }))
      .status,
    403,
  );
  t.is(
    (
      await client.request('POST', `/api/v1/meetings/${meeting.id}/participants/${meeting.participants[0].id}/resend`, {
        json: { version: meeting.version },
      })
    ).status,
    403,
  );
  const list = (await client.get(`/api/v1/meetings?${period}`)).json();
  t.true(list.meetings.some((m: any) => m.id === meeting.id));
});

test('the API works with a bearer token, without the CSRF header', async (t) => {
  const { staff } = await app.staff('clinician', unitA);
  const { token } = await createToken(app.server.app.db, staff.email, 'journalsystem');
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const res = await fetch(`${app.url}/api/v1/meetings`, { method: 'POST', headers, body: JSON.stringify(booking()) });
  t.is(res.status, 201);
  const meeting = await res.json();
  const read = await fetch(`${app.url}/api/v1/meetings/${meeting.id}`, { headers });
  t.is(read.status, 200);
});

test('a change sent with the session cookie but without the CSRF header is refused', async (t) => {
  const { meeting, client } = await bookedMeeting();
  const reply = await client.request('POST', `/api/v1/meetings/${meeting.id}/cancel`, {
    json: { version: 1, reason: 'x' },
    headers: { 'x-csrf-token': 'forged' },
  });
  t.is(reply.status, 403);
  t.is((await client.get(`/api/v1/meetings/${meeting.id}`)).json().status, 'booked');
});

test('without a session or token the API answers 401', async (t) => {
  const { meeting } = await bookedMeeting();
  t.is((await app.client().get(`/api/v1/meetings/${meeting.id}`)).status, 401);
  t.is((await app.client().get(`/api/v1/meetings?${period}`)).status, 401);
});

test('every access to a meeting is audit-logged: booking, reading, listing and changes', async (t) => {
  const { meeting, client, staff } = await bookedMeeting();
  await client.get(`/api/v1/meetings/${meeting.id}`);
  await client.get(`/api/v1/meetings?${period}`);
  await client.request('PATCH', `/api/v1/meetings/${meeting.id}`, { json: { version: 1, startsAt: inDays(3) } });
  await client.request('POST', `/api/v1/meetings/${meeting.id}/participants/${meeting.participants[1].id}/resend`, {
    json: { version: 2 },
  });
  await client.request(
    'DELETE',
    `/api/v1/meetings/${meeting.id}/participants/${meeting.participants[2].id}?version=2`,
    { headers: { 'x-csrf-token': client.crumb! } },
  );
  await client.request('POST', `/api/v1/meetings/${meeting.id}/cancel`, { json: { version: 3, reason: 'Sjuk' } });
  const records = await findAudit(app.server.app.db, { staffId: staff.id });
  const actions = records.map((r) => r.action).reverse();
  t.deepEqual(
    actions.filter((a) => a !== 'login'),
    [
      'meeting.book',
      'meeting.read',
      'meeting.list',
      'meeting.update',
      'invitation.resend',
      'participant.remove',
      'meeting.cancel',
    ],
  );
  const list = present(
    records.find((r) => r.action === 'meeting.list'),
    'the record of the listing',
  );
  t.true((list.details!.meetingIds as string[]).includes(meeting.id));
  const read = present(
    records.find((r) => r.action === 'meeting.read'),
    'the record of the read',
  );
  t.like(read, {
    meetingId: meeting.id,
    targetType: 'meeting',
    targetId: meeting.id,
    unitId: staff.unitId,
    staffRole: 'clinician',
  });
  const removed = present(
    records.find((r) => r.action === 'participant.remove'),
    'the record of the removal',
  );
  t.is(removed.participantId, meeting.participants[2].id);
});

test("support reads a meeting's messages and a failed SMS without the numbers and addresses they went to", async (t) => {
  const { meeting, client: clinician } = await bookedMeeting();
  const db = app.server.app.db;
  // The SMS to Sara failed for good: the meeting page asks staff to call her.
  const sms = await until('the SMS to Sara sent', async () => {
    const row = await db('outbox_messages').where({ meeting_id: meeting.id, channel: 'sms', kind: 'invitation' });
    return row.find((r) => r.recipient === '+46701234567' && ['sent', 'delivered'].includes(r.status));
  });
  await db('outbox_messages')
    .where({ id: sms.id })
    .update({ status: 'failed', last_error: 'ESME_RINVDSTADR', failed_at: new Date().toISOString() });
  const mine = (await clinician.get(`/api/v1/meetings/${meeting.id}/messages`)).json();
  t.true(
    mine.some((m: { recipient: string }) => m.recipient === '+46701234567'),
    'the booking clinician sees them',
  );
  t.regex((await clinician.get(`/meetings/${meeting.id}`)).text, /Sms:et till \+46701234567 kom inte fram/);

  const { client } = await loggedIn(app, 'support', 'IT-support');
  const messages = await client.get(`/api/v1/meetings/${meeting.id}/messages`);
  t.is(messages.status, 200);
  t.is(messages.json().length, mine.length, 'every message and its status');
  t.true(messages.json().every((m: { recipient: string | null }) => m.recipient === null));
  t.false(messages.text.includes('+46701234567'));
  t.false(messages.text.toLowerCase().includes('eva.ek@skola.example'));
  const page = await client.get(`/meetings/${meeting.id}`);
  t.is(page.status, 200);
  t.regex(page.text, /Sms:et kom inte fram \(ESME_RINVDSTADR\)/);
  t.false(page.text.includes('+46701234567'));
});

test("support reads why an e-mail was refused without the address the relay's reply repeats", async (t) => {
  const { meeting, client: clinician } = await bookedMeeting();
  const db = app.server.app.db;
  const mail = await until('the e-mail to Eva', async () => {
    const rows = await db('outbox_messages').where({ meeting_id: meeting.id, channel: 'email', kind: 'invitation' });
    return rows.find((r) => r.recipient === 'eva.ek@skola.example' && r.status !== 'queued' && r.status !== 'sending');
  });
  // As Postfix refuses an unknown recipient: the reply names the address.
  await db('outbox_messages').where({ id: mail.id }).update({
    status: 'failed',
    last_error: '550 5.1.1 <eva.ek@skola.example>: Recipient address rejected: User unknown',
    failed_at: new Date().toISOString(),
  });
  const mine = (await clinician.get(`/api/v1/meetings/${meeting.id}/messages`)).json();
  t.true(
    mine.some((m: { lastError: string | null }) => m.lastError?.includes('eva.ek@skola.example')),
    'the booking clinician reads the whole reply',
  );

  const { client } = await loggedIn(app, 'support', 'IT-support');
  const messages = await client.get(`/api/v1/meetings/${meeting.id}/messages`);
  t.is(messages.status, 200);
  const refused = present(
    messages.json().find((m: { id: string }) => m.id === mail.id),
    'the refused e-mail',
  );
  t.regex(refused.lastError, /550 5\.1\.1 .*Recipient address rejected/, 'support reads why');
  t.false(messages.text.toLowerCase().includes('eva.ek@skola.example'), 'not the address');
});

test('a denied access names the meeting in the audit log also when the meeting is not in the address', async (t) => {
  const { meeting } = await bookedMeeting(unitA);
  const { client, staff } = await loggedIn(app, 'clinician', unitB);
  // The meeting page's connection events name their meeting in the body.
  const reply = await client.request('POST', '/connlog/events', { json: { type: 'reconnect', meetingId: meeting.id } });
  t.is(reply.status, 403);
  const denied = await findAudit(app.server.app.db, { staffId: staff.id, action: 'meeting.denied' });
  t.is(denied.length, 1);
  t.like(denied[0], { meetingId: meeting.id, targetType: 'meeting', targetId: meeting.id });
});

test("a refused action in another unit's meeting room is audited like every refused change", async (t) => {
  const { staff: colleague, password } = await app.staff('clinician', unitB);
  const { client } = await loggedIn(app, 'clinician', unitA);
  const meeting = (
    await client.request('POST', '/api/v1/meetings', {
      json: booking({ participants: [booking().participants[0], { kind: 'colleague', staffId: colleague.id }] }),
    })
  ).json();
  const invited = app.client();
  await invited.login(colleague.email, password);
  // Invited from another unit: they read the meeting and come to its room, but do not run it.
  t.is((await invited.get(`/meetings/${meeting.id}`)).status, 200);
  const end = await invited.submit(`/meetings/${meeting.id}/end`, { confirm: 'yes' });
  t.is(end.status, 403);
  t.regex(end.text, /Du har inte behörighet/);
  const kick = await invited.submit(`/meetings/${meeting.id}/kick`, { nick: 'Sara Lind' });
  t.is(kick.status, 403);
  const denied = await findAudit(app.server.app.db, { staffId: colleague.id, action: 'meeting.denied' });
  t.is(denied.length, 2);
  t.true(denied.every((r) => r.meetingId === meeting.id));
  t.is((await client.get(`/api/v1/meetings/${meeting.id}`)).json().status, 'booked');
});

test("a refused list or booking of another unit's meetings names that unit in the audit log", async (t) => {
  const { client, staff } = await loggedIn(app, 'clinician', unitB);
  await loggedIn(app, 'clinician', unitA);
  const other = await app.server.app.db('care_units').where({ name: unitA }).first();
  t.is((await client.get(`/api/v1/meetings?${period}&unitId=${other.id}`)).status, 403);
  t.is((await client.request('POST', '/api/v1/meetings', { json: booking({ unitId: other.id }) })).status, 403);
  const denied = await findAudit(app.server.app.db, { staffId: staff.id, action: 'meeting.denied' });
  t.is(denied.length, 2);
  t.true(
    denied.every((r) => r.details?.unitId === other.id),
    JSON.stringify(denied.map((r) => r.details)),
  );
});
