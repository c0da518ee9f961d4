// Changes to a booked meeting: reschedule, update, cancel, participants added, removed and
// re-invited. Each is one transaction, recorded in meeting_events and emitted on the bus; a
// change based on an old version is refused with 409.
import test from 'ava';
import type { DomainEvents } from '../../appliance/src/events.ts';
import { changeTypes } from '../../appliance/src/meetings/events.ts';
import { present } from '../helpers/present.ts';
import { startServer, type Client, type TestServer } from '../helpers/server.ts';
import { booking, inDays, loggedIn, teacherByEmail } from './_booking.ts';

let app: TestServer;
let client: Client;
const emitted: { type: string; payload: any }[] = [];
test.before(async () => {
  app = await startServer();
  client = (await loggedIn(app)).client;
  // Listens for every kind of change the meetings domain records (the list its events.ts keeps).
  for (const type of changeTypes) {
    app.server.app.bus.on(type, (payload: DomainEvents[typeof type]) => {
      emitted.push({ type, payload });
    });
  }
});
test.after.always(() => app?.stop());

async function book() {
  const reply = await client.request('POST', '/api/v1/meetings', { json: booking() });
  if (reply.status !== 201) throw new Error(reply.text);
  return reply.json();
}

const recorded = async (meetingId: string) => app.server.plugins.meetings.service.changes(meetingId);
const emittedFor = (meetingId: string) => emitted.filter((e) => e.payload.meetingId === meetingId);
const del = (path: string) => client.request('DELETE', path, { headers: { 'x-csrf-token': client.crumb! } });
/** Bus listeners run on the next tick: give them one. */
const settle = () => new Promise((r) => setImmediate(r));

test('booking records and emits meeting.booked with every participant', async (t) => {
  const meeting = await book();
  await settle();
  const change = present((await recorded(meeting.id))[0], 'the recorded booking');
  t.is(change.type, 'meeting.booked');
  t.deepEqual(
    change.payload.participantIds,
    meeting.participants.map((p: any) => p.id),
  );
  t.deepEqual(
    emittedFor(meeting.id).map((e) => e.type),
    ['meeting.booked'],
  );
  t.is(present(emittedFor(meeting.id)[0], 'the emitted booking').payload.startsAt, meeting.startsAt);
});

test('rescheduling moves the meeting, raises its version and tells every participant', async (t) => {
  const meeting = await book();
  const startsAt = inDays(4, 13);
  const reply = await client.request('PATCH', `/api/v1/meetings/${meeting.id}`, {
    json: { version: 1, startsAt, durationMinutes: 60 },
  });
  t.is(reply.status, 200, reply.text);
  t.like(reply.json(), { startsAt, durationMinutes: 60, version: 2 });
  await settle();
  const event = present(
    emittedFor(meeting.id).find((e) => e.type === 'meeting.rescheduled'),
    'the emitted reschedule',
  );
  t.like(event.payload, { previousStartsAt: meeting.startsAt, startsAt, durationMinutes: 60 });
  t.is(event.payload.participantIds.length, 3);
  t.deepEqual(
    (await recorded(meeting.id)).map((c) => c.type),
    ['meeting.booked', 'meeting.rescheduled'],
  );
});

test('a meeting cannot be rescheduled into the past', async (t) => {
  const meeting = await book();
  const reply = await client.request('PATCH', `/api/v1/meetings/${meeting.id}`, {
    json: { version: 1, startsAt: inDays(-2) },
  });
  t.is(reply.status, 400);
  t.is(reply.json().rule, 'starts_in_past');
  t.is((await client.get(`/api/v1/meetings/${meeting.id}`)).json().version, 1, 'nothing changed');
});

test('changing the title or documentation plan is recorded without a new message', async (t) => {
  const meeting = await book();
  const reply = await client.request('PATCH', `/api/v1/meetings/${meeting.id}`, {
    json: { version: 1, title: 'Uppföljning', documentationPlan: 'Journalanteckning' },
  });
  t.is(reply.status, 200);
  const updated = present((await recorded(meeting.id))[1], 'the recorded change after the booking');
  t.is(updated.type, 'meeting.updated');
  t.deepEqual(updated.payload.fields, ['title', 'documentationPlan']);
});

test('the second of two concurrent edits gets a clear conflict message and changes nothing', async (t) => {
  const meeting = await book();
  const [a, b] = await Promise.all([
    client.request('PATCH', `/api/v1/meetings/${meeting.id}`, { json: { version: 1, title: 'Första' } }),
    client.request('PATCH', `/api/v1/meetings/${meeting.id}`, { json: { version: 1, title: 'Andra' } }),
  ]);
  const statuses = [a.status, b.status].sort();
  t.deepEqual(statuses, [200, 409]);
  const conflict = a.status === 409 ? a : b;
  t.regex(conflict.json().message, /Någon annan har ändrat mötet sedan du öppnade det/);
  t.is(conflict.json().currentVersion, 2);
  const now = (await client.get(`/api/v1/meetings/${meeting.id}`)).json();
  t.is(now.version, 2);
  t.is(now.title, a.status === 200 ? 'Första' : 'Andra');
});

test('cancelling needs a reason, tells everyone, and a cancelled meeting cannot be changed', async (t) => {
  const meeting = await book();
  const noReason = await client.request('POST', `/api/v1/meetings/${meeting.id}/cancel`, {
    json: { version: 1, reason: ' ' },
  });
  t.is(noReason.status, 400);
  t.is(noReason.json().rule, 'cancel_reason_required');
  const reply = await client.request('POST', `/api/v1/meetings/${meeting.id}/cancel`, {
    json: { version: 1, reason: 'Patienten är inlagd' },
  });
  t.is(reply.status, 200);
  t.like(reply.json(), { status: 'cancelled', cancelReason: 'Patienten är inlagd', version: 2 });
  await settle();
  t.like(
    present(
      emittedFor(meeting.id).find((e) => e.type === 'meeting.cancelled'),
      'the emitted cancellation',
    ).payload,
    {
      reason: 'Patienten är inlagd',
    },
  );
  const again = await client.request('PATCH', `/api/v1/meetings/${meeting.id}`, {
    json: { version: 2, startsAt: inDays(5) },
  });
  t.is(again.status, 409);
  t.regex(again.json().message, /Mötet är inställt och kan inte ändras/);
});

test('a participant is added, and the list rules still hold', async (t) => {
  const meeting = await book();
  const add = await client.request('POST', `/api/v1/meetings/${meeting.id}/participants`, {
    json: { version: 1, participant: { ...teacherByEmail, name: 'Kurator Kim', email: 'kurator@skola.example' } },
  });
  t.is(add.status, 201, add.text);
  const added = add.json().participants[3];
  t.like(added, { name: 'Kurator Kim', kind: 'guest' });
  await settle();
  t.like(
    present(
      emittedFor(meeting.id).find((e) => e.type === 'participant.added'),
      'the emitted addition',
    ).payload,
    { participantId: added.id },
  );
  const both = await client.request('POST', `/api/v1/meetings/${meeting.id}/participants`, {
    json: { version: 2, participant: { ...teacherByEmail, mobile: '0701234567' } },
  });
  t.is(both.json().rule, 'guest_mobile_and_email');
  const secondPatient = await client.request('POST', `/api/v1/meetings/${meeting.id}/participants`, {
    json: { version: 2, participant: booking().participants[0] },
  });
  t.is(secondPatient.json().rule, 'one_patient');
  t.is((await client.get(`/api/v1/meetings/${meeting.id}`)).json().participants.length, 4);
});

test('a participant is removed; the patient cannot be', async (t) => {
  const meeting = await book();
  const patient = meeting.participants[0];
  const teacher = meeting.participants[1];
  const refused = await del(`/api/v1/meetings/${meeting.id}/participants/${patient.id}?version=1`);
  t.is(refused.status, 400);
  t.regex(refused.json().message, /Patienten kan inte tas bort/);
  const removed = await del(`/api/v1/meetings/${meeting.id}/participants/${teacher.id}?version=1`);
  t.is(removed.status, 200);
  t.deepEqual(
    removed.json().participants.map((p: any) => p.id),
    [patient.id, meeting.participants[2].id],
  );
  t.is((await del(`/api/v1/meetings/${meeting.id}/participants/${teacher.id}?version=2`)).status, 404);
  const row = await app.server.app.db('participants').where({ id: teacher.id }).first();
  t.truthy(row.removed_at, "kept in the meeting's record");
  t.deepEqual(
    (await recorded(meeting.id)).map((c) => [c.type, c.participantId]),
    [
      ['meeting.booked', null],
      ['participant.removed', teacher.id],
    ],
  );
});

test("an invitation is sent again without changing the meeting's version", async (t) => {
  const meeting = await book();
  const reply = await client.request(
    'POST',
    `/api/v1/meetings/${meeting.id}/participants/${meeting.participants[2].id}/resend`,
    { json: { version: meeting.version } },
  );
  t.is(reply.status, 202);
  t.is(reply.json().version, 1);
  await settle();
  t.like(
    present(
      emittedFor(meeting.id).find((e) => e.type === 'invitation.resend'),
      'the emitted resend',
    ).payload,
    {
      participantId: meeting.participants[2].id,
    },
  );
});

test('a re-send with a malformed body or a stale version changes nothing and sends nothing', async (t) => {
  const meeting = await book();
  const path = `/api/v1/meetings/${meeting.id}/participants/${meeting.participants[2].id}/resend`;
  await settle();
  const before = emittedFor(meeting.id).length;
  for (const body of ['[1,2,3]', 'null', '{}', '{"version":"x"}', '{"version":1,"extra":true}']) {
    const reply = await client.request('POST', path, {
      body,
      headers: { 'content-type': 'application/json', 'x-csrf-token': client.crumb! },
    });
    t.is(reply.status, 400, body);
  }
  const stale = await client.request('POST', path, { json: { version: meeting.version + 1 } });
  t.is(stale.status, 409);
  t.is(stale.json().rule, 'version_conflict');
  await settle();
  t.is(emittedFor(meeting.id).length, before, 'no invitation went out');
});

test("a participant's invitation is re-sent at most five times an hour, then a clear 429", async (t) => {
  const meeting = await book();
  const path = `/api/v1/meetings/${meeting.id}/participants/${meeting.participants[1].id}/resend`;
  const replies = await Promise.all(
    Array.from({ length: 8 }, () => client.request('POST', path, { json: { version: meeting.version } })),
  );
  t.deepEqual(
    replies.map((r) => r.status).sort(),
    [202, 202, 202, 202, 202, 429, 429, 429],
    'five, even when asked all at once',
  );
  const refused = present(
    replies.find((r) => r.status === 429),
    'a refused request',
  );
  t.regex(refused.json().message, /too many times in the last hour|för många gånger den senaste timmen/);
  t.is(refused.json().rule, 'too_many_resends');
  t.true(Number(refused.headers.get('retry-after')) > 0);
  await settle();
  t.is(emittedFor(meeting.id).filter((e) => e.type === 'invitation.resend').length, 5);
  const other = await client.request(
    'POST',
    `/api/v1/meetings/${meeting.id}/participants/${meeting.participants[2].id}/resend`,
    { json: { version: meeting.version } },
  );
  t.is(other.status, 202, 'the limit is per participant');
  const page = await client.submit(
    `/meetings/${meeting.id}/participants/${meeting.participants[1].id}/resend`,
    { version: String(meeting.version) },
    `/meetings/${meeting.id}`,
  );
  t.is(page.status, 429);
  t.regex(page.text, /skickats om för många gånger den senaste timmen/);
});

test("an onChange hook runs inside the change's transaction: when it fails, nothing is stored", async (t) => {
  const fresh = await startServer();
  try {
    const { client: c } = await loggedIn(fresh);
    const seen: string[] = [];
    let fail = false;
    fresh.server.plugins.meetings.onChange(async (trx, change) => {
      seen.push(change.type);
      // The hook sees the rows the change wrote: it is in the same transaction.
      t.truthy(await trx('meetings').where({ id: change.payload.meetingId }).first());
      if (fail) throw new Error('outbox full');
    });
    const ok = await c.request('POST', '/api/v1/meetings', { json: booking() });
    t.is(ok.status, 201);
    fail = true;
    const broken = await c.request('POST', '/api/v1/meetings', { json: booking({ title: 'Ska inte finnas' }) });
    t.is(broken.status, 500);
    t.is(await fresh.server.app.db('meetings').where({ title: 'Ska inte finnas' }).first(), undefined);
    const cancel = await c.request('POST', `/api/v1/meetings/${ok.json().id}/cancel`, {
      json: { version: 1, reason: 'x' },
    });
    t.is(cancel.status, 500);
    t.is((await c.get(`/api/v1/meetings/${ok.json().id}`)).json().status, 'booked');
    t.deepEqual(seen, ['meeting.booked', 'meeting.booked', 'meeting.cancelled']);
  } finally {
    await fresh.stop();
  }
});

test('participant status reported by another domain reaches the meeting', async (t) => {
  const meeting = await book();
  const participantId = meeting.participants[0].id;
  // The status is written in a group commit (the event's part), and the bus tells its listeners
  // once that has committed: the test reads the meeting then, not after a guessed number of ticks.
  let stopListening = () => {};
  const committed = new Promise<void>((resolve) => {
    stopListening = app.server.app.bus.on('participant.status', (payload) => {
      if (payload.participantId === participantId) resolve();
    });
  });
  app.server.app.bus.emit('participant.status', { meetingId: meeting.id, participantId, status: 'waiting' });
  await committed;
  stopListening();
  t.is((await client.get(`/api/v1/meetings/${meeting.id}`)).json().participants[0].status, 'waiting');
});

test("a participant's status only moves forward until the waiting room, then they come and go", async (t) => {
  const meeting = await book();
  const { service } = app.server.plugins.meetings;
  const id = meeting.participants[1].id;
  const status = async () =>
    present(present(await service.find(meeting.id), 'the meeting').participants[1], 'the teacher').status;
  t.true(await service.setParticipantStatus(id, 'identified'));
  t.false(await service.setParticipantStatus(id, 'delivered'), 'a late receipt does not undo identification');
  t.is(await status(), 'identified');
  for (const next of ['waiting', 'joined', 'left', 'joined'] as const) {
    t.true(await service.setParticipantStatus(id, next));
    t.is(await status(), next);
  }
});

test('the proxy opening the waiting room while the patient is in the meeting does not show the patient as waiting', async (t) => {
  const meeting = await book();
  const { service } = app.server.plugins.meetings;
  const id = meeting.participants[0].id;
  const status = async () =>
    present(present(await service.find(meeting.id), 'the meeting').participants[0], 'the patient').status;
  t.true(await service.setParticipantStatus(id, 'joined'));
  // The patient and the proxy share the participant's status: one of them in the room is "joined".
  t.false(await service.setParticipantStatus(id, 'waiting'), 'someone of theirs is in the room');
  t.is(await status(), 'joined');
  t.true(await service.setParticipantStatus(id, 'left'));
  t.true(await service.setParticipantStatus(id, 'waiting'), 'back in the waiting room after leaving');
  t.is(await status(), 'waiting');
});

test('the OpenAPI document describes the meetings API with examples', async (t) => {
  const { client } = await loggedIn(app);
  const doc = (await client.get('/api/v1/openapi.json')).json();
  for (const path of [
    '/meetings',
    '/meetings/{id}',
    '/meetings/{id}/cancel',
    '/meetings/{id}/participants',
    '/meetings/{id}/participants/{participantId}',
    '/meetings/{id}/participants/{participantId}/resend',
  ]) {
    t.truthy(doc.paths[path] ?? doc.paths[`/api/v1${path}`], path);
  }
  const participant =
    doc.paths['/api/v1/meetings/{id}/participants/{participantId}'] ??
    doc.paths['/meetings/{id}/participants/{participantId}'];
  t.truthy(participant.patch, 'a PATCH that changes contact details');
  t.truthy(participant.delete);
  const text = JSON.stringify(doc);
  t.true(text.includes("Change a participant's contact details"));
  t.true(text.includes('Samordnad planering inför skolstart'));
  t.true(text.includes('19121212-****'));
});

test('listing needs a sensible period', async (t) => {
  const backwards = await client.get(
    `/api/v1/meetings?from=${encodeURIComponent(inDays(3))}&to=${encodeURIComponent(inDays(1))}`,
  );
  t.is(backwards.status, 400);
  t.is(backwards.json().rule, 'period_invalid');
  t.is(
    (
      await client.get(`/api/v1/meetings?from=${encodeURIComponent(inDays(0))}&to=${encodeURIComponent(inDays(200))}`)
    ).json().rule,
    'period_invalid',
  );
});

/** Who a meeting's participants are and how they are reached: their status moves on by itself (a delivered invitation). */
const whoAndHow = (participants: { status?: string }[]) => participants.map(({ status: _status, ...p }) => p);

/** Changes a participant's contact details through the API. */
const changeContact = (meetingId: string, participantId: string, json: Record<string, unknown>) =>
  client.request('PATCH', `/api/v1/meetings/${meetingId}/participants/${participantId}`, { json });

test("a participant's mobile number is corrected: the meeting keeps the new one, the change and a new invitation are recorded, the audit names no number", async (t) => {
  const meeting = await book();
  const olle = meeting.participants[2];
  const reply = await changeContact(meeting.id, olle.id, { version: meeting.version, mobile: '076-111 11 11' });
  t.is(reply.status, 200, reply.text);
  const changed = reply.json();
  t.is(changed.version, meeting.version + 1);
  t.like(changed.participants[2], { id: olle.id, mobile: '+46761111111', email: null });
  t.deepEqual(
    whoAndHow(changed.participants.filter((p: { id: string }) => p.id !== olle.id)),
    whoAndHow(meeting.participants.filter((p: { id: string }) => p.id !== olle.id)),
    'nobody else changed',
  );
  const types = (await recorded(meeting.id)).map((c) => c.type);
  t.deepEqual(types.slice(-2), ['participant.contact_changed', 'invitation.resend']);
  const change = present((await recorded(meeting.id)).at(-2), 'the recorded change');
  t.like(change.payload, { participantId: olle.id, persons: ['main'], fields: ['mobile'] });
  t.notRegex(JSON.stringify(change.payload), /761111111/, 'the recorded change keeps no number');
  const audit = await app.server.app.db('audit_log').where({ action: 'participant.contact', target_id: olle.id });
  t.is(audit.length, 1);
  t.notRegex(JSON.stringify(audit), /761111111|111 11 11/, 'the audit record keeps no number');
  const logged = await app.server.app.db('connlog_entries').where({ meeting_id: meeting.id, type: 'contact_changed' });
  t.is(logged.length, 1, 'the connection log shows the change');
  t.regex(JSON.stringify(logged), /mobile/);
  t.notRegex(JSON.stringify(logged), /761111111|111 11 11/, 'and keeps no number');
});

test("a guest's e-mail address is corrected, and a guest may move from SMS to e-mail (one of the two, never both)", async (t) => {
  const meeting = await book();
  const eva = meeting.participants[1];
  const corrected = await changeContact(meeting.id, eva.id, { version: 1, email: ' Eva.Ek@Skolan.example ' });
  t.is(corrected.status, 200, corrected.text);
  t.is(corrected.json().participants[1].email, 'eva.ek@skolan.example');
  const both = await changeContact(meeting.id, eva.id, { version: 2, mobile: '0761111111' });
  t.is(both.status, 400);
  t.is(both.json().rule, 'guest_mobile_and_email');
  const moved = await changeContact(meeting.id, eva.id, { version: 2, mobile: '0761111111', email: '' });
  t.is(moved.status, 200, moved.text);
  t.like(moved.json().participants[1], { mobile: '+46761111111', email: null });
});

test('a correction by the rules of booking: a bad number or address, no mobile for SMS identification, a colleague, a stale version or a cancelled meeting is refused and changes nothing', async (t) => {
  const meeting = await book();
  const [sara, eva, olle] = meeting.participants;
  const refusals: [string, Record<string, unknown>, number, string][] = [
    [olle.id, { version: 1, mobile: '12345' }, 400, 'phone_invalid'],
    [olle.id, { version: 1, mobile: '08-123 456 78' }, 400, 'phone_not_mobile'],
    [eva.id, { version: 1, email: 'eva@' }, 400, 'email_invalid'],
    [olle.id, { version: 1, mobile: '', email: 'olle@example.se' }, 400, 'sms_needs_mobile'],
    [sara.id, { version: 1, mobile: '' }, 400, 'sms_needs_mobile'],
    [eva.id, { version: 1, email: '' }, 400, 'guest_contact_required'],
    [olle.id, { version: 2, mobile: '0761111111' }, 409, 'version_conflict'],
  ];
  for (const [participantId, body, status, rule] of refusals) {
    const reply = await changeContact(meeting.id, participantId, body);
    t.is(reply.status, status, `${rule}: ${reply.text}`);
    t.is(reply.json().rule, rule);
    t.truthy(reply.json().message);
  }
  const english = await client.request('PATCH', `/api/v1/meetings/${meeting.id}/participants/${olle.id}`, {
    json: { version: 1, mobile: '12345' },
    headers: { 'accept-language': 'en' },
  });
  t.regex(english.json().message, /number/i);
  const unknown = await changeContact(meeting.id, '00000000-0000-4000-8000-000000000000', {
    version: 1,
    mobile: '0761111111',
  });
  t.is(unknown.status, 404);
  const after = await client.request('GET', `/api/v1/meetings/${meeting.id}`);
  t.deepEqual(whoAndHow(after.json().participants), whoAndHow(meeting.participants), 'nobody changed');
  t.is(after.json().version, 1);

  const withColleague = await client.request('POST', `/api/v1/meetings/${meeting.id}/participants`, {
    json: { version: 1, participant: { kind: 'colleague', staffEmail: (await app.staff('clinician')).staff.email } },
  });
  t.is(withColleague.status, 201, withColleague.text);
  const colleague = withColleague.json().participants.at(-1);
  const directory = await changeContact(meeting.id, colleague.id, { version: 2, email: 'other@region.example' });
  t.is(directory.status, 400);
  t.is(directory.json().rule, 'colleague_contact_from_directory');

  await client.request('POST', `/api/v1/meetings/${meeting.id}/cancel`, { json: { version: 2, reason: 'Inlagd' } });
  const cancelled = await changeContact(meeting.id, olle.id, { version: 3, mobile: '0761111111' });
  t.is(cancelled.status, 409);
  t.is(cancelled.json().rule, 'not_changeable');
  t.is((await client.request('GET', `/api/v1/meetings/${meeting.id}`)).json().participants[2].mobile, '+46761234567');
});

test('the same contact details again change nothing: no new version, no invitation, no record', async (t) => {
  const meeting = await book();
  await settle();
  const before = emittedFor(meeting.id).length;
  const olle = meeting.participants[2];
  const reply = await changeContact(meeting.id, olle.id, { version: 1, mobile: '+46 76 123 45 67' });
  t.is(reply.status, 200, reply.text);
  t.is(reply.json().version, 1);
  await settle();
  t.is(emittedFor(meeting.id).length, before);
  t.deepEqual(
    (await recorded(meeting.id)).map((c) => c.type),
    ['meeting.booked'],
  );
});

/** Books the child Ella Lind with her proxy Anna Lind, who is invited by SMS. */
const bookEllaWithProxy = () =>
  client.request('POST', '/api/v1/meetings', {
    json: booking({
      participants: [
        {
          kind: 'patient_proxy',
          name: 'Ella Lind',
          identification: 'sms',
          proxy: { name: 'Anna Lind', mobile: '070-123 45 67' },
        },
      ],
    }),
  });

test("a proxy's contact details are corrected on the patient's row, the patient's left as they were", async (t) => {
  const reply = await bookEllaWithProxy();
  t.is(reply.status, 201, reply.text);
  const meeting = reply.json();
  const patient = meeting.participants[0];
  const noMobile = await changeContact(meeting.id, patient.id, {
    version: 1,
    proxy: { mobile: '', email: 'anna@example.se' },
  });
  t.is(noMobile.status, 400);
  t.is(noMobile.json().rule, 'sms_needs_mobile');
  const changed = await changeContact(meeting.id, patient.id, { version: 1, proxy: { mobile: '0761111111' } });
  t.is(changed.status, 200, changed.text);
  t.like(changed.json().participants[0], {
    mobile: null,
    email: null,
    proxy: { name: 'Anna Lind', mobile: '+46761111111' },
  });
  t.like(present((await recorded(meeting.id)).at(-2), 'the change').payload, {
    persons: ['proxy'],
    fields: ['mobile'],
  });
});

test("a foreign mobile number is corrected by naming its country, as at booking: read for that country, which the participant keeps; without it the booked country's reading refuses it", async (t) => {
  const meeting = await book();
  const olle = meeting.participants[2];
  t.is(olle.country, 'SE');
  const asSwedish = await changeContact(meeting.id, olle.id, { version: 1, mobile: '912 34 567' });
  t.is(asSwedish.status, 400);
  t.is(asSwedish.json().rule, 'phone_not_mobile', 'read as a Swedish number it is none');
  const unknown = await changeContact(meeting.id, olle.id, { version: 1, country: 'XX', mobile: '912 34 567' });
  t.is(unknown.status, 400);
  t.is(unknown.json().rule, 'country_unknown');
  t.is(unknown.json().field, 'participant.country');

  const norwegian = await changeContact(meeting.id, olle.id, { version: 1, country: 'no', mobile: '912 34 567' });
  t.is(norwegian.status, 200, norwegian.text);
  t.like(norwegian.json().participants[2], { id: olle.id, country: 'NO', mobile: '+4791234567' });
  t.like(present((await recorded(meeting.id)).at(-2), 'the change').payload, { persons: ['main'], fields: ['mobile'] });

  // The proxy's number by its own country; the patient's stays as booked.
  const withProxy = await bookEllaWithProxy();
  t.is(withProxy.status, 201, withProxy.text);
  const patient = withProxy.json().participants[0];
  const proxy = await changeContact(withProxy.json().id, patient.id, {
    version: 1,
    proxy: { country: 'DE', mobile: '0151 23456789' },
  });
  t.is(proxy.status, 200, proxy.text);
  t.like(proxy.json().participants[0], { country: 'SE', proxy: { country: 'DE', mobile: '+4915123456789' } });
});
