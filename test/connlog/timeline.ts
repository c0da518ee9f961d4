// The connection log as support reads it: a meeting driven through the real parts (booking through
// the API, invitations through a real SMTP relay and SMSC, the guest's link and name check, the tech
// test, the meeting page's client events) leaves one timeline, in order; support finds it by the
// patient's phone number and exports it; the client event endpoint takes only the caller's own events.
import { randomInt } from 'node:crypto';
import test from 'ava';
import { findAudit } from '../../appliance/src/audit/store.ts';
import { addDays, fromClinicTime, today } from '../../appliance/src/common/clock.ts';
import { countsByMeeting, insertEntry, timeline } from '../../appliance/src/connlog/store.ts';
import { maskPhone } from '../../appliance/src/connlog/search.ts';
import { findMeeting } from '../../appliance/src/meetings/store.ts';
import { findStaff } from '../../appliance/src/staff/store.ts';
import { present } from '../helpers/present.ts';
import { loggedIn } from '../meetings/_booking.ts';
import { mailedPath } from '../helpers/wait.ts';
import {
  bookMeeting,
  chrome,
  guestEnters,
  patientEnters,
  smsTo,
  startWorld,
  techTestResult,
  until,
  type World,
} from './_meeting.ts';
import { searchLog } from './_search.ts';

let world: World;
test.before(async () => {
  world = await startWorld();
});
test.after.always(() => world?.stop());

/** The rooms plugin emits these in production (XMPP presence, ending); here they go on the bus directly. */
const emitRoom = (name: string, payload: Record<string, unknown>) =>
  world.app.server.app.bus.emit(name as never, payload as never);

const typesOf = async (meetingId: string, participantId?: string) =>
  (await timeline(world.app.server.app.db, { meetingId, participantId })).map((e) => e.type);

test('a meeting from booking to its end leaves the expected timeline entries in order', async (t) => {
  const booked = await bookMeeting(world);
  const { meetingId, guestId } = booked;
  const guest = await guestEnters(world, booked);
  t.is(
    (await guest.request('POST', '/entry/test/results', { json: techTestResult, headers: { 'user-agent': chrome } }))
      .status,
    201,
  );
  await guest.get('/entry/waiting/events');
  await until('the waiting entry', async () => (await typesOf(meetingId, guestId)).includes('waiting'));
  emitRoom('room.presence', {
    meetingId,
    participantId: guestId,
    nick: 'Lärare Eva Ek',
    kind: 'joined',
    at: new Date().toISOString(),
  });
  await until('the join', async () => (await typesOf(meetingId, guestId)).includes('joined'));
  for (const event of [
    { type: 'videoConferenceJoined' },
    { type: 'cameraError', details: { name: 'NotReadableError', message: 'Could not start video source' } },
    { type: 'videoConferenceLeft', details: { roomName: 'x' } },
    { type: 'reconnect', details: { awaySeconds: 12 } },
  ]) {
    t.is(
      (await guest.request('POST', '/connlog/events', { json: event, headers: { 'user-agent': chrome } })).status,
      204,
    );
  }
  emitRoom('room.presence', {
    meetingId,
    participantId: guestId,
    nick: 'Lärare Eva Ek',
    kind: 'left',
    at: new Date().toISOString(),
  });
  await until('the leave', async () => (await typesOf(meetingId, guestId)).includes('left'));
  // The patient's SMS (queued at booking) is through before the meeting ends: its entries belong before the end.
  await until("the patient's receipt", async () =>
    (await typesOf(meetingId, booked.patientId)).includes('message_delivered'),
  );
  emitRoom('room.ended', { meetingId, reason: 'Mötet är slut.', cause: 'time', byStaffId: null });
  await until('the end', async () => (await typesOf(meetingId)).includes('meeting_ended'));
  // The end sends the guest their evaluation request at once (evaluation/index.ts): its entries close
  // their timeline, once it has gone.
  const evaluationRequestSent = async () =>
    (await timeline(world.app.server.app.db, { meetingId, participantId: guestId })).some(
      (e) => e.type === 'message_sent' && e.details.kind === 'evaluation_request',
    );
  await until("the guest's evaluation request sent", evaluationRequestSent);

  t.deepEqual(await typesOf(meetingId, guestId), [
    'message_queued',
    'message_sent',
    'link_opened',
    'identified',
    'techtest',
    'waiting',
    'joined',
    'client_videoConferenceJoined',
    'client_cameraError',
    'client_videoConferenceLeft',
    'client_reconnect',
    'left',
    'message_queued',
    'message_sent',
  ]);
  const all = await timeline(world.app.server.app.db, { meetingId });
  t.is(present(all[0], 'the first event').type, 'meeting_booked');
  // After the end come only what the end itself causes: the evaluation requests going out.
  const afterEnd = all.slice(all.findIndex((e) => e.type === 'meeting_ended') + 1);
  t.deepEqual(
    afterEnd.filter((e) => e.details.kind !== 'evaluation_request').map((e) => e.type),
    [],
  );
  // The patient's SMS was queued, sent and delivered (the SMSC's receipt).
  const invitation = (await timeline(world.app.server.app.db, { meetingId, participantId: booked.patientId })).filter(
    (e) => e.details.kind === 'invitation',
  );
  t.deepEqual(
    invitation.map((e) => e.type),
    ['message_queued', 'message_sent', 'message_delivered'],
  );

  const tested = present(
    all.find((e) => e.type === 'techtest'),
    'the tech test in the timeline',
  );
  t.like(tested.details, {
    verdict: 'good',
    person: 'main',
    camera: 'yes',
    rttMs: 42,
    browser: 'Chrome 126',
    os: 'Linux',
  });
  const cameraError = present(
    all.find((e) => e.type === 'client_cameraError'),
    'the camera error in the timeline',
  );
  t.true(cameraError.error);
  t.like(cameraError.details, { name: 'NotReadableError', browser: 'Chrome 126' });
  // The camera failing, and the page joining the meeting again after a lost connection.
  t.deepEqual(
    all.filter((e) => e.error).map((e) => e.type),
    ['client_cameraError', 'client_reconnect'],
  );
});

test('"Visa bara fel" keeps the leaves that were failures (a lost connection, an error) and hides hang-ups, kicks and the room closing', async (t) => {
  const booked = await bookMeeting(world);
  const { meetingId, guestId } = booked;
  const leaves = ['left', 'disconnected', 'error', 'kicked', 'destroyed', 'missing'];
  for (const [i, reason] of leaves.entries()) {
    const at = new Date(Date.now() + i).toISOString();
    const nick = `besök-${reason}`;
    emitRoom('room.presence', { meetingId, participantId: guestId, nick, kind: 'joined', at });
    emitRoom('room.presence', { meetingId, participantId: guestId, nick, kind: 'left', at, reason });
  }
  await until('every leave', async () => (await typesOf(meetingId, guestId)).filter((x) => x === 'left').length === 6);
  const { client: support } = await loggedIn(world.app, 'support');
  const page = await support.get(`/connlog/meetings/${meetingId}?participantId=${guestId}&errors=1`);
  t.is(page.status, 200);
  const shown = [...page.text.matchAll(/Lämnade mötet \(besök-(\w+)\)/g)].map((m) => m[1]);
  t.deepEqual(shown, ['disconnected', 'error']);
  t.regex(page.text, /<strong>Fel:<\/strong> Lämnade mötet \(besök-disconnected\)/);
  // Without the filter every leave is there.
  const all = (await support.get(`/connlog/meetings/${meetingId}?participantId=${guestId}`)).text;
  t.is([...all.matchAll(/Lämnade mötet \(besök-/g)].length, 6);
});

test('"Visa bara fel" shows a reconnect and a participant still missing at the no-show time among the errors', async (t) => {
  const booked = await bookMeeting(world);
  const { meetingId, patientId, guestId } = booked;
  const guest = await guestEnters(world, booked);
  // The meeting page joined the meeting again after a lost connection.
  const posted = await guest.request('POST', '/connlog/events', {
    json: { type: 'reconnect' },
    headers: { 'user-agent': chrome },
  });
  t.is(posted.status, 204);
  emitRoom('noshow.alert', { meetingId, participantId: patientId, phone: booked.patientE164 });
  await until('the reconnect and the alert', async () => {
    const types = await typesOf(meetingId);
    return types.includes('client_reconnect') && types.includes('noshow_alert');
  });
  const { client: support } = await loggedIn(world.app, 'support');
  const page = (await support.get(`/connlog/meetings/${meetingId}?errors=1`)).text;
  t.regex(page, /<strong>Fel:<\/strong> Återanslöt efter avbrott/);
  t.regex(page, /<strong>Fel:<\/strong> Hade inte anslutit fem minuter efter start/);
  t.notRegex(page, /Mötet bokades/, 'only errors');
  const exported = (await support.get(`/connlog/meetings/${meetingId}?participantId=${guestId}&format=json`)).json();
  t.like(
    exported.entries.find((e: { type: string }) => e.type === 'client_reconnect'),
    { error: true },
  );
  t.is((await countsByMeeting(world.app.server.app.db, [meetingId])).get(meetingId)?.errors, 2);
});

test('entries logged before the rule are judged by the rule of today: an old lost connection and an old reconnect are errors', async (t) => {
  const booked = await bookMeeting(world);
  const { meetingId, guestId } = booked;
  const db = world.app.server.app.db;
  // Rows as an earlier version wrote them, before these were problems (or its flag was written with them).
  const old = new Date(Date.now() - 60_000).toISOString();
  const details = (d: Record<string, string>) => JSON.stringify(d);
  await db('connlog_entries').insert([
    {
      at: old,
      meeting_id: meetingId,
      participant_id: guestId,
      type: 'left',
      details: details({ nick: 'Eva', leave: 'disconnected' }),
    },
    {
      at: old,
      meeting_id: meetingId,
      participant_id: guestId,
      type: 'left',
      details: details({ nick: 'Eva', leave: 'left' }),
    },
    {
      at: old,
      meeting_id: meetingId,
      participant_id: guestId,
      type: 'client_reconnect',
      details: details({ browser: 'Chrome 126' }),
    },
  ]);
  const { client: support } = await loggedIn(world.app, 'support');
  const page = (await support.get(`/connlog/meetings/${meetingId}?participantId=${guestId}&errors=1`)).text;
  t.deepEqual(
    [...page.matchAll(/<strong>Fel:<\/strong> ([^<]+?)\s*</g)].map((m) => m[1]),
    ['Lämnade mötet (Eva)', 'Återanslöt efter avbrott'],
  );
  t.is((await countsByMeeting(db, [meetingId])).get(meetingId)?.errors, 2);
  const entries = (await timeline(db, { meetingId })).filter((e) => e.type === 'left' || e.type === 'client_reconnect');
  t.deepEqual(
    entries.map((e) => [e.type, e.details.leave ?? null, e.error]),
    [
      ['left', 'disconnected', true],
      ['left', 'left', false],
      ['client_reconnect', null, true],
    ],
  );
});

test('kicks, no-show alerts and the action staff took are logged with a sentence, without the phone number', async (t) => {
  const booked = await bookMeeting(world);
  const { meetingId, patientId } = booked;
  emitRoom('noshow.alert', { meetingId, participantId: patientId, phone: booked.patientE164 });
  emitRoom('noshow.action', { meetingId, participantId: patientId, action: 'called', byStaffId: 'x' });
  emitRoom('room.kicked', { meetingId, participantId: patientId, nick: 'Sara Lind', byStaffId: 'x' });
  await until('the kick', async () => (await typesOf(meetingId, patientId)).includes('kicked'));
  const { client: support } = await loggedIn(world.app, 'support');
  const page = await support.get(`/connlog/meetings/${meetingId}?participantId=${patientId}`);
  t.regex(page.text, /Hade inte anslutit fem minuter efter start/);
  t.regex(page.text, /Personalen åtgärdade utebliven anslutning: ringde deltagaren/);
  t.regex(page.text, /Togs bort ur mötet av personalen \(Sara Lind\)/);
  const entries = await timeline(world.app.server.app.db, { meetingId });
  t.false(JSON.stringify(entries).includes(booked.patientE164.slice(3)));
});

test("support finds the meeting by the patient's phone number, sees it masked, and exports the timeline", async (t) => {
  const booked = await bookMeeting(world);
  const guest = await guestEnters(world, booked);
  await guest.request('POST', '/connlog/events', {
    json: { type: 'micError', details: { name: 'NotAllowedError' } },
    headers: { 'user-agent': chrome },
  });
  await until('the microphone error', async () =>
    (await typesOf(booked.meetingId, booked.guestId)).includes('client_micError'),
  );
  const { client: support, staff } = await loggedIn(world.app, 'support');

  const { page: found } = await searchLog(support, { phone: booked.patientMobile.replace(/^(\d{3})/, '$1-') });
  t.is(found.status, 200);
  t.true(found.text.includes(`/connlog/meetings/${booked.meetingId}`));
  t.false(found.text.includes(booked.patientE164), 'support does not see the whole number');
  t.true(found.text.includes(maskPhone(booked.patientE164)!));
  const { page: other } = await searchLog(support, { phone: '0709999999999' });
  t.false(other.text.includes(`/connlog/meetings/${booked.meetingId}`));

  const page = await support.get(`/connlog/meetings/${booked.meetingId}?errors=1`);
  t.is(page.status, 200);
  t.regex(page.text, /Mikrofonfel i webbläsaren/);
  t.notRegex(page.text, /Mötet bokades/, 'only errors');

  const json = await support.get(`/connlog/meetings/${booked.meetingId}?format=json`);
  t.is(json.status, 200);
  const exported = json.json();
  t.is(exported.meeting.id, booked.meetingId);
  t.true(
    exported.entries.some(
      (e: { type: string; participant: string }) => e.type === 'link_opened' && e.participant === 'Lärare Eva Ek',
    ),
  );
  const csv = await support.get(`/connlog/meetings/${booked.meetingId}?format=csv&participantId=${booked.guestId}`);
  t.is(csv.status, 200);
  t.regex(csv.headers.get('content-type') ?? '', /text\/csv/);
  t.regex(csv.text, /^at;participantId;participant;type;error;text;details\r\n/);
  t.regex(csv.text, /client_micError;true;Mikrofonfel i webbläsaren/);

  const audit = await findAudit(world.app.server.app.db, { staffId: staff.id });
  t.deepEqual([...new Set(audit.map((a) => a.action).filter((a) => a.startsWith('connlog.')))].sort(), [
    'connlog.export',
    'connlog.read',
    'connlog.search',
  ]);
  t.false(JSON.stringify(audit).includes(booked.patientE164));

  // English readers get the sentence in English.
  await support.get('/lang/en?next=/');
  t.regex((await support.get(`/connlog/meetings/${booked.meetingId}`)).text, /Microphone error in the browser/);
});

test('clinicians cannot read connection logs', async (t) => {
  const booked = await bookMeeting(world);
  const { client } = await loggedIn(world.app, 'clinician');
  t.is((await client.get(`/connlog/meetings/${booked.meetingId}`)).status, 403);
  t.is((await client.get('/connlog')).status, 403);
});

test("the client event endpoint refuses another session's events and oversized or malformed bodies", async (t) => {
  const booked = await bookMeeting(world);
  const guest = await guestEnters(world, booked);
  const post = (json: unknown) => guest.request('POST', '/connlog/events', { json });
  t.is((await post({ type: 'cameraError', participantId: booked.patientId })).status, 403, 'another participant');
  const elsewhere = await bookMeeting(world);
  t.is((await post({ type: 'cameraError', meetingId: elsewhere.meetingId })).status, 403, 'another meeting');
  t.is((await post({ type: 'cameraError', details: { message: 'x'.repeat(5000) } })).status, 413, 'over 4 KB');
  t.is((await post({ type: 'dropTables' })).status, 400);
  t.is((await post({ type: 'cameraError', details: { nested: { deep: true } } })).status, 400);
  t.is(
    (
      await post({
        type: 'cameraError',
        details: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i])),
      })
    ).status,
    400,
  );
  const postRaw = (body: string, contentType: string) =>
    guest.request('POST', '/connlog/events', {
      body,
      headers: { 'content-type': contentType, 'x-csrf-token': guest.crumb ?? '' },
    });
  t.is((await postRaw('{"type": ', 'application/json')).status, 400);
  t.is((await postRaw('type=cameraError', 'application/x-www-form-urlencoded')).status, 415);
  const stranger = world.app.client();
  t.true(
    [401, 302].includes((await stranger.request('POST', '/connlog/events', { json: { type: 'cameraError' } })).status),
    'no session',
  );
  // A clinician of another unit reports nothing for a meeting they are not in.
  const { client: outsider } = await loggedIn(world.app, 'clinician', 'Ortopedi');
  await outsider.get('/');
  t.is(
    (await outsider.request('POST', '/connlog/events', { json: { type: 'cameraError', meetingId: booked.meetingId } }))
      .status,
    403,
  );
  // The host reports for their own meeting.
  await booked.clinician.get('/');
  t.is(
    (
      await booked.clinician.request('POST', '/connlog/events', {
        json: { type: 'reconnect', meetingId: booked.meetingId },
      })
    ).status,
    204,
  );
  // Nothing refused was logged: among the errors only the host's own reconnect (a lost connection).
  t.deepEqual(
    (await timeline(world.app.server.app.db, { meetingId: booked.meetingId, onlyErrors: true }))
      .filter((e) => e.type.startsWith('client_'))
      .map((e) => e.type),
    ['client_reconnect'],
  );
});

test("the client event endpoint limits each session's rate", async (t) => {
  const booked = await bookMeeting(world);
  const guest = await guestEnters(world, booked);
  const statuses: number[] = [];
  for (let i = 0; i < 125; i++)
    statuses.push((await guest.request('POST', '/connlog/events', { json: { type: 'participantJoined' } })).status);
  t.is(statuses.filter((s) => s === 204).length, 120);
  t.is(statuses.at(-1), 429);
  // Another guest is not affected.
  const other = await guestEnters(world, await bookMeeting(world));
  t.is((await other.request('POST', '/connlog/events', { json: { type: 'participantJoined' } })).status, 204);
});

/** The timeline page's rows of one entry type: each row's text, details included. */
const rowsOf = (html: string, type: string) =>
  [...html.matchAll(new RegExp(`<tr[^>]*data-type="${type}">([\\s\\S]*?)</tr>`, 'g'))].map((m) =>
    (m[1] ?? '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' '),
  );

/** A meeting of Sara Lind and her proxy Per Lind, each invited by SMS to a number of their own. */
async function bookedWithProxy() {
  const proxyMobile = `073${randomInt(1_000_000, 9_999_999)}`;
  const booked = await bookMeeting(world, {
    participants: [
      {
        kind: 'patient_proxy',
        name: 'Sara Lind',
        identification: 'sms',
        mobile: `070${randomInt(1_000_000, 9_999_999)}`,
        proxy: { name: 'Per Lind', mobile: proxyMobile },
      },
    ],
  });
  return { booked, proxyMobile };
}

test("support tells the patient's steps from their proxy's: the test and the meeting page's errors say who", async (t) => {
  const { booked, proxyMobile } = await bookedWithProxy();
  const proxy = await patientEnters(world, booked, { e164: `+46${proxyMobile.slice(1)}`, name: 'Per Lind' });
  // The devices the proxy chose in the test: support asks "which microphone did you use?".
  const devices = { camera: 'FaceTime HD Camera', microphone: 'Jabra Evolve2 65', speaker: null };
  t.is(
    (
      await proxy.request('POST', '/entry/test/results', {
        json: { ...techTestResult, devices },
        headers: { 'user-agent': chrome },
      })
    ).status,
    201,
  );
  // The page cannot make itself someone else: who it is comes from the session.
  const posted = await proxy.request('POST', '/connlog/events', {
    json: { type: 'cameraError', details: { name: 'NotAllowedError', person: 'main' } },
    headers: { 'user-agent': chrome },
  });
  t.is(posted.status, 204);
  await until('the camera error', async () =>
    (await typesOf(booked.meetingId, booked.patientId)).includes('client_cameraError'),
  );
  const entries = await timeline(world.app.server.app.db, { meetingId: booked.meetingId });
  t.like(entries.find((e) => e.type === 'client_cameraError')?.details, { person: 'proxy' });

  const { client: support } = await loggedIn(world.app, 'support');
  const page = (await support.get(`/connlog/meetings/${booked.meetingId}`)).text;
  for (const type of ['link_opened', 'identified'])
    t.like(entries.find((e) => e.type === type)?.details, { person: 'proxy' });
  for (const type of ['link_opened', 'identified', 'techtest', 'client_cameraError']) {
    const [row] = rowsOf(page, type);
    t.regex(row ?? '', /ombudet/, `${type} says the proxy did it`);
  }
  // The row names the person: the proxy by their own name, the participant they act for beside it.
  for (const type of ['link_opened', 'techtest', 'client_cameraError'])
    t.regex(rowsOf(page, type)[0] ?? '', /^ \S+ \S+ CES?T Per Lind \(för Sara Lind\)/, type);
  const exported = (await support.get(`/connlog/meetings/${booked.meetingId}?format=json`)).json();
  t.is(exported.entries.find((e: { type: string }) => e.type === 'techtest')?.participant, 'Per Lind (för Sara Lind)');
  const [tested] = rowsOf(page, 'techtest');
  t.regex(tested ?? '', /Vald kamera FaceTime HD Camera/);
  t.regex(tested ?? '', /Vald mikrofon Jabra Evolve2 65/);
});

test("a meeting page's error reads with labels in the reader's language and the browser's time on the clinic's clock", async (t) => {
  const booked = await bookMeeting(world);
  const guest = await guestEnters(world, booked);
  // The meeting page sends when the browser saw it (in summer the clinic's clock is two hours
  // ahead) and whatever Jitsi's event held, names this appliance has no label for among them.
  const at = '2026-07-01T10:15:30.000Z';
  t.is(
    (
      await guest.request('POST', '/connlog/events', {
        json: {
          type: 'peerConnectionFailure',
          meetingId: booked.meetingId,
          at,
          details: { isP2P: false, visitor: false },
        },
        headers: { 'user-agent': chrome },
      })
    ).status,
    204,
  );
  await until('the failure', async () =>
    (await typesOf(booked.meetingId, booked.guestId)).includes('client_peerConnectionFailure'),
  );
  const { client: support } = await loggedIn(world.app, 'support');
  const [sv] = rowsOf(
    (await support.get(`/connlog/meetings/${booked.meetingId}`)).text,
    'client_peerConnectionFailure',
  );
  t.notRegex(sv ?? '', /connlog\./, 'no untranslated label');
  t.regex(sv ?? '', /2026-07-01 12:15:30/);
  t.notRegex(sv ?? '', /T10:15/, 'not the UTC instant as sent');
  await support.get('/lang/en?next=/');
  const [en] = rowsOf(
    (await support.get(`/connlog/meetings/${booked.meetingId}`)).text,
    'client_peerConnectionFailure',
  );
  t.notRegex(en ?? '', /connlog\./, 'no untranslated label in English');
  t.regex(en ?? '', /12:15:30/);
});

test("support's search by day is by the clinic's day: a meeting just after midnight is on its own day, not the day before", async (t) => {
  // Half past midnight on the clinic's clock is the evening before in UTC (an hour in winter, two in summer).
  const day = addDays(today(), 3);
  const booked = await bookMeeting(world, {
    startsAt: fromClinicTime(day, '00:30').toISOString(),
    durationMinutes: 30,
  });
  const { client: support } = await loggedIn(world.app, 'support');
  const link = `/connlog/meetings/${booked.meetingId}`;
  const search = (from: string, to = from) =>
    searchLog(support, { from, to, meetingId: '', phone: booked.patientMobile }).then((searched) => searched.page);
  t.true((await search(day)).text.includes(link), 'found on its day');
  t.false((await search(addDays(day, -1))).text.includes(link), 'not on the day before');
  // A quarter at most, and a period that ends after it begins.
  t.is((await search(day, addDays(day, 92))).status, 200);
  t.is((await search(day, addDays(day, 93))).status, 400);
  t.is((await search(day, addDays(day, -1))).status, 400);
});

test('support finds a meeting by the phone number however the caller reads it out', async (t) => {
  const booked = await bookMeeting(world);
  const { client: support } = await loggedIn(world.app, 'support');
  const national = booked.patientMobile.slice(1); // 70XXXXXXX
  const spaced = `${national.slice(0, 2)}-${national.slice(2, 5)} ${national.slice(5, 7)} ${national.slice(7)}`;
  for (const typed of [booked.patientMobile, `0${spaced}`, `+46 ${spaced}`, `0046 ${spaced}`, `+46 (0)${spaced}`]) {
    const { page: found } = await searchLog(support, { phone: typed });
    t.true(found.text.includes(`/connlog/meetings/${booked.meetingId}`), typed);
  }
});

test("details named like an object's own properties read as what was sent", async (t) => {
  const booked = await bookMeeting(world);
  const guest = await guestEnters(world, booked);
  // Names this log translates for its own entries (kind, action, problem …) read as sent when the value is not one of its words.
  const details = { constructor: 'Chrome', toString: 'x', valueOf: 3, kind: 'network', problem: 'ice' };
  t.is((await guest.request('POST', '/connlog/events', { json: { type: 'errorOccurred', details } })).status, 204);
  await until('the error', async () =>
    (await typesOf(booked.meetingId, booked.guestId)).includes('client_errorOccurred'),
  );
  const { client: support } = await loggedIn(world.app, 'support');
  const [row] = rowsOf((await support.get(`/connlog/meetings/${booked.meetingId}`)).text, 'client_errorOccurred');
  t.notRegex(row ?? '', /native code|function/);
  t.regex(row ?? '', /constructor Chrome toString x valueOf 3/);
  t.regex(row ?? '', /kind network problem ice/);
  t.notRegex(row ?? '', /connlog\./, 'no untranslated word');
});

test("the CSV export and the page write each entry's time on the clinic's clock with its offset, across the change to winter time", async (t) => {
  const booked = await bookMeeting(world);
  const db = world.app.server.app.db;
  // Summer time, and the night summer time ends: 02:30 comes twice, an hour apart.
  for (const at of ['2026-07-01T10:15:30.000Z', '2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z'])
    await insertEntry(db, {
      at: new Date(at),
      meetingId: booked.meetingId,
      participantId: null,
      type: 'room_opened',
      details: {},
    });
  const { client: support } = await loggedIn(world.app, 'support');
  const csv = (await support.get(`/connlog/meetings/${booked.meetingId}?format=csv`)).text;
  const times = csv
    .split('\r\n')
    .filter((line) => line.includes(';room_opened;'))
    .map((line) => line.split(';')[0]);
  t.deepEqual(times, ['2026-07-01T12:15:30+02:00', '2026-10-25T02:30:00+02:00', '2026-10-25T02:30:00+01:00']);
  // Each is the same instant as logged.
  t.deepEqual(
    times.map((s) => new Date(s ?? '').toISOString()),
    ['2026-07-01T10:15:30.000Z', '2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z'],
  );
  // The page tells the two 02:30s apart too: each time says its zone.
  const rows = rowsOf((await support.get(`/connlog/meetings/${booked.meetingId}`)).text, 'room_opened');
  t.deepEqual(
    rows.map((row) => /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+/.exec(row)?.[0]),
    ['2026-07-01 12:15:30 CEST', '2026-10-25 02:30:00 CEST', '2026-10-25 02:30:00 CET'],
  );
});

test("a colleague's own meeting-page errors say which colleague, not 'the meeting'", async (t) => {
  const booked = await bookMeeting(world);
  await booked.clinician.get('/');
  t.is(
    (
      await booked.clinician.request('POST', '/connlog/events', {
        json: { type: 'micError', meetingId: booked.meetingId, details: { name: 'NotAllowedError' } },
        headers: { 'user-agent': chrome },
      })
    ).status,
    204,
  );
  await until('the microphone error', async () => (await typesOf(booked.meetingId)).includes('client_micError'));
  const db = world.app.server.app.db;
  const host = present(await findMeeting(db, booked.meetingId), 'the meeting').bookedBy;
  const name = present(await findStaff(db, { id: host }), 'the clinician').name;
  const { client: support } = await loggedIn(world.app, 'support');
  const [row] = rowsOf((await support.get(`/connlog/meetings/${booked.meetingId}`)).text, 'client_micError');
  t.true((row ?? '').includes(`Personal ${name}`), row);
});

test('a wrong SMS code is in the timeline, before the right one lets the patient in', async (t) => {
  const booked = await bookMeeting(world);
  const invitation = await until('the invitation', () =>
    smsTo(world, booked.patientE164)
      .join('')
      .match(/http:\/\/[^/\s]+(\/j\/[\w-]{24,})/),
  );
  const path = present(invitation[1], 'the link');
  const patient = world.app.client();
  await patient.get(path, { 'user-agent': chrome });
  await patient.request('POST', '/j', {
    form: { crumb: patient.crumb ?? '', token: path.slice(3), name: 'Sara Lind' },
    headers: { 'user-agent': chrome },
  });
  await patient.get('/entry/code');
  const sms = await until('the code', () => smsTo(world, booked.patientE164).find((x) => x.startsWith('Din kod')));
  const code = present(/: (\d{6})\./.exec(sms)?.[1], 'the code');
  const wrong = code === '000000' ? '111111' : '000000';
  await patient.request('POST', '/entry/code', { form: { crumb: patient.crumb ?? '', code: wrong } });
  await patient.request('POST', '/entry/code', { form: { crumb: patient.crumb ?? '', code } });
  const types = await typesOf(booked.meetingId, booked.patientId);
  t.deepEqual(
    types.filter((type) => ['link_opened', 'code_failed', 'identified'].includes(type)),
    ['link_opened', 'code_failed', 'identified'],
  );
  const failed = (await timeline(world.app.server.app.db, { meetingId: booked.meetingId })).find(
    (e) => e.type === 'code_failed',
  );
  t.like(failed, { error: true, details: { person: 'main', triesLeft: 4 } });
  t.false(JSON.stringify(failed?.details).includes(wrong), 'not the code typed');
  const { client: support } = await loggedIn(world.app, 'support');
  const [row] = rowsOf((await support.get(`/connlog/meetings/${booked.meetingId}`)).text, 'code_failed');
  t.regex(row ?? '', /Fel sms-kod \(deltagaren; 4 försök kvar\)/);
});

test("filtering the timeline by a participant keeps the meeting's own events around their steps", async (t) => {
  const booked = await bookMeeting(world);
  emitRoom('room.ended', { meetingId: booked.meetingId, reason: 'Mötet är slut.', cause: 'time', byStaffId: null });
  await until('the end', async () => (await typesOf(booked.meetingId)).includes('meeting_ended'));
  const { client: support } = await loggedIn(world.app, 'support');
  const page = (await support.get(`/connlog/meetings/${booked.meetingId}?participantId=${booked.guestId}`)).text;
  t.is(rowsOf(page, 'meeting_booked').length, 1, 'the booking');
  t.is(rowsOf(page, 'meeting_ended').length, 1, 'the end');
  t.true(rowsOf(page, 'message_queued').length > 0, "the guest's own steps");
  // Not the other participant's steps: the patient's SMS is not the guest's.
  const json = (
    await support.get(`/connlog/meetings/${booked.meetingId}?participantId=${booked.guestId}&format=json`)
  ).json();
  t.deepEqual(
    [...new Set(json.entries.map((e: { participantId: string | null }) => e.participantId))].sort(),
    [booked.guestId, null].sort(),
  );
});

test('the end of a meeting says in the timeline why it ended and what the room was told, in Swedish and in English', async (t) => {
  // One ended by the clinician for everyone, one by the schedule once its time was up.
  const byStaff = await bookMeeting(world);
  const ended = await byStaff.clinician.submit(
    `/meetings/${byStaff.meetingId}/end`,
    { confirm: 'yes' },
    `/meetings/${byStaff.meetingId}`,
  );
  t.is(ended.status, 302, ended.text);
  const timeUp = await bookMeeting(world);
  await world.app.server.plugins.rooms.service.end(timeUp.meetingId, 'Mötet är slut.', null);
  for (const { meetingId } of [byStaff, timeUp])
    await until('the end', async () => (await typesOf(meetingId)).includes('meeting_ended'));

  const { client: support } = await loggedIn(world.app, 'support');
  const endOf = async (meetingId: string) =>
    rowsOf((await support.get(`/connlog/meetings/${meetingId}`)).text, 'meeting_ended')[0] ?? '';
  t.regex(await endOf(byStaff.meetingId), /Mötet avslutades för alla: personalen avslutade det/);
  t.regex(await endOf(byStaff.meetingId), /Meddelandet i mötesrummet Mötet har avslutats av personalen\./);
  t.regex(await endOf(timeUp.meetingId), /Mötet avslutades för alla: tiden var slut/);
  t.regex(await endOf(timeUp.meetingId), /Meddelandet i mötesrummet Mötet är slut\./);
  support.cookies.set('lang', 'en');
  t.regex(await endOf(byStaff.meetingId), /The meeting was ended for everyone: staff ended it/);
  t.regex(await endOf(timeUp.meetingId), /The meeting was ended for everyone: its time was up/);
  t.regex(await endOf(timeUp.meetingId), /Message in the meeting room Mötet är slut\./);
  const csv = await support.get(`/connlog/meetings/${timeUp.meetingId}?format=csv`);
  t.regex(csv.text, /meeting_ended;false;The meeting was ended for everyone: its time was up/);
});

test('a meeting ended twice at once (a double click on the button) is logged as ended once', async (t) => {
  const booked = await bookMeeting(world);
  const clinician = present(await findMeeting(world.app.server.app.db, booked.meetingId), 'the meeting').bookedBy;
  const service = world.app.server.plugins.rooms.service;
  // Both read the room before either writes its end.
  const ends = await Promise.all([
    service.end(booked.meetingId, 'Mötet har avslutats av personalen.', clinician),
    service.end(booked.meetingId, 'Mötet har avslutats av personalen.', clinician),
  ]);
  t.deepEqual(ends.sort(), [false, true], 'one of them ended it');
  // An entry announced after both ends is written after whatever they announced (one group commit after another).
  emitRoom('room.opened', { meetingId: booked.meetingId });
  await until('the later entry', async () => (await typesOf(booked.meetingId)).includes('room_opened'));
  t.deepEqual(
    (await typesOf(booked.meetingId)).filter((type) => type === 'meeting_ended'),
    ['meeting_ended'],
  );
});

test("a moved meeting says in the timeline from which time to which, on the clinic's clock", async (t) => {
  const day = addDays(today(), 6);
  const booked = await bookMeeting(world, { startsAt: fromClinicTime(day, '14:00').toISOString() });
  const moved = await booked.clinician.request('PATCH', `/api/v1/meetings/${booked.meetingId}`, {
    json: { version: 1, startsAt: fromClinicTime(day, '15:30').toISOString() },
  });
  t.is(moved.status, 200, moved.text);
  const { client: support } = await loggedIn(world.app, 'support');
  const [row] = rowsOf((await support.get(`/connlog/meetings/${booked.meetingId}`)).text, 'meeting_rescheduled');
  t.regex(row ?? '', new RegExp(`Tidigare tid ${day} 14:00:00 CES?T`));
  t.regex(row ?? '', new RegExp(`Ny tid ${day} 15:30:00 CES?T`));
  // The meeting's own time, at the top of its timeline and in the search, says its zone too.
  t.regex((await support.get(`/connlog/meetings/${booked.meetingId}`)).text, /<p>[^<]* 15:30 CES?T ·/);
});

test('a participant removed from the meeting can still be chosen to read their own steps', async (t) => {
  const booked = await bookMeeting(world);
  const removed = await booked.clinician.request(
    'DELETE',
    `/api/v1/meetings/${booked.meetingId}/participants/${booked.guestId}?version=1`,
    { headers: { 'x-csrf-token': booked.clinician.crumb ?? '' } },
  );
  t.is(removed.status, 200, removed.text);
  const { client: support } = await loggedIn(world.app, 'support');
  const page = (await support.get(`/connlog/meetings/${booked.meetingId}`)).text;
  t.regex(page, new RegExp(`<option value="${booked.guestId}"[^>]*>Lärare Eva Ek \\(borttagen ur mötet\\)</option>`));
  const theirs = (await support.get(`/connlog/meetings/${booked.meetingId}?participantId=${booked.guestId}`)).text;
  t.regex(theirs, new RegExp(`<option value="${booked.guestId}" selected>`));
  t.is(rowsOf(theirs, 'participant_removed').length, 1);
});

test('a link refused on another device is in the timeline: support sees the guest was told it was already used', async (t) => {
  const booked = await bookMeeting(world);
  await guestEnters(world, booked);
  // The same link opened again on the guest's phone: this browser holds no session, the link is spent.
  const path = await mailedPath(world.relay, booked.guestEmail);
  const phone = world.app.client();
  const refused = await phone.get(path, { 'user-agent': chrome });
  t.is(refused.status, 409);
  await until('the refusal', async () => (await typesOf(booked.meetingId, booked.guestId)).includes('link_refused'));
  const entry = (await timeline(world.app.server.app.db, { meetingId: booked.meetingId })).find(
    (e) => e.type === 'link_refused',
  );
  t.like(entry, { error: true, details: { person: 'main', problem: 'used', browser: 'Chrome 126' } });
  const { client: support } = await loggedIn(world.app, 'support');
  const [row] = rowsOf((await support.get(`/connlog/meetings/${booked.meetingId}`)).text, 'link_refused');
  t.regex(row ?? '', /Lärare Eva Ek/);
  t.regex(row ?? '', /Länken nekades: den har redan använts i en annan webbläsare eller på en annan enhet/);
});

test('the messages to a patient and to their proxy are told apart: support sees which of them an SMS went to', async (t) => {
  const { booked } = await bookedWithProxy();
  const { meetingId, patientId } = booked;
  const db = world.app.server.app.db;
  await until(
    'both invitations delivered',
    async () => (await typesOf(meetingId, patientId)).filter((type) => type === 'message_delivered').length === 2,
  );
  const messages = (await timeline(db, { meetingId, participantId: patientId })).filter((e) =>
    e.type.startsWith('message_'),
  );
  const proxys = messages.filter((e) => e.details.person === 'proxy').map((e) => e.type);
  const patients = messages.filter((e) => e.details.person !== 'proxy').map((e) => e.type);
  t.deepEqual(proxys, ['message_queued', 'message_sent', 'message_delivered']);
  t.deepEqual(patients, ['message_queued', 'message_sent', 'message_delivered']);
  const { client: support } = await loggedIn(world.app, 'support');
  const page = (await support.get(`/connlog/meetings/${meetingId}`)).text;
  const delivered = rowsOf(page, 'message_delivered');
  t.is(delivered.filter((row) => /Per Lind \(för Sara Lind\)/.test(row)).length, 1, delivered.join('\n'));
  t.is(delivered.filter((row) => /CES?T Sara Lind /.test(row)).length, 1, delivered.join('\n'));
  // The patient's own data export holds their messages, the proxy's the proxy's.
  const { client: admin } = await loggedIn(world.app, 'admin');
  const theirs = (await admin.get(`/admin/privacy/participants/${patientId}/export`)).json();
  t.deepEqual(
    theirs.connectionLog
      .filter((e: { type: string }) => e.type.startsWith('message_'))
      .map((e: { type: string }) => e.type),
    ['message_queued', 'message_sent', 'message_delivered'],
  );
});
