// A live page's event stream (the calendar, a meeting page, the meeting room's panel) is access
// like any page: when the session behind it ends or the person's rights change, it ends too.
import test from 'ava';
import { run } from '../../appliance/src/cli.ts';
import { recheckStaffStreams } from '../../appliance/src/http/sse.ts';
import { findUnit } from '../../appliance/src/staff/store.ts';
import { eventStream, startServer, type TestServer } from '../helpers/server.ts';
import { booking, loggedIn } from '../meetings/_booking.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer({ env: { REMINDER_OFFSETS: 'none' } });
});
test.after.always(() => app?.stop());

const unitA = 'Barn- och ungdomsmedicin';

test("logging out ends that session's open calendar stream, and disabling the account ends the others", async (t) => {
  const { client: colleague } = await loggedIn(app, 'clinician', unitA);
  const { client: here, staff } = await loggedIn(app, 'clinician', unitA);
  // The same clinician on a second computer.
  const elsewhere = app.client();
  await elsewhere.login(staff.email, 'rätt-häftklammer-42');
  const streamHere = await eventStream(here, '/calendar/events');
  const streamElsewhere = await eventStream(elsewhere, '/calendar/events');
  t.is(streamHere.res.status, 200);
  await streamHere.read(/retry:/);
  await streamElsewhere.read(/retry:/);

  await here.submit('/logout', {}, '/');
  t.true(await streamHere.ended(), 'the logged-out session hears nothing more');
  // The other session goes on, and still hears its unit's bookings.
  const booked = (await colleague.request('POST', '/api/v1/meetings', { json: booking() })).json<{ id: string }>();
  t.regex(await streamElsewhere.read(new RegExp(booked.id)), /event: meeting/);

  const { client: admin } = await loggedIn(app, 'admin', 'Administration');
  t.regex((await admin.submit(`/admin/staff/${staff.id}/disable`, {}, '/admin')).text, /avstängt och utloggat/);
  t.true(await streamElsewhere.ended(), "a disabled account's streams end at once");
});

test("a clinician moved to another unit stops hearing the old unit's calendar", async (t) => {
  const { client, staff } = await loggedIn(app, 'clinician', unitA);
  const stream = await eventStream(client, '/calendar/events');
  await stream.read(/retry:/);
  const { client: admin } = await loggedIn(app, 'admin', 'Administration');
  const other = await app.staff('clinician', 'Ortopedi');
  const unit = await findUnit(app.server.app.db, { id: other.staff.unitId });
  const moved = await admin.submit(
    `/admin/staff/${staff.id}`,
    { name: staff.name, email: staff.email, hsaId: '', unit: unit!.id, role: 'clinician' },
    '/admin',
  );
  t.is(moved.status, 200);
  t.true(await stream.ended(), 'the stream ends: the browser opens it again with the new unit');
});

/** `samverka …` as hospital IT runs it beside the running appliance, on its database. */
const samverka = (...argv: string[]) =>
  run(
    argv,
    { NODE_ENV: 'test', DATABASE_URL: app.config.databaseUrl, DATA_DIR: app.config.dataDir, LOG_LEVEL: 'silent' },
    () => true,
  );

test("`samverka user disable` ends the person's open streams, not only their next page", async (t) => {
  const { client, staff } = await loggedIn(app, 'clinician', unitA);
  const stream = await eventStream(client, '/calendar/events');
  await stream.read(/retry:/);
  // The command line is another process: on SQLite nothing it does reaches this one's bus, so the
  // appliance checks its open streams against the database now and then (on PostgreSQL the command
  // also announces the change, and the stream may have ended already).
  t.is(await samverka('user', 'disable', '--email', staff.email), 0);
  t.is((await client.get('/profile')).status, 302, 'the next page asks for a login');
  await recheckStaffStreams(app.server);
  t.true(await stream.ended(), 'the open calendar stream ends too');
});

test('a stream ends with the 12-hour session that opened it', async (t) => {
  const { client, staff } = await loggedIn(app, 'clinician', unitA);
  const stream = await eventStream(client, '/calendar/events');
  await stream.read(/retry:/);
  // The working day is over: the session has run out while the calendar stayed open on the wall.
  await app.server.app
    .db('staff_sessions')
    .where({ staff_id: staff.id })
    .update({ expires_at: new Date(Date.now() - 1000).toISOString() });
  await recheckStaffStreams(app.server);
  t.true(await stream.ended(), 'no live updates past the session');
  t.is((await client.get('/calendar')).status, 302);
});

test('a colleague from another unit removed from a meeting stops hearing its page and its room panel', async (t) => {
  const { staff: colleague, password } = await app.staff('clinician', 'Ortopedi');
  const { client: booker } = await loggedIn(app, 'clinician', unitA);
  const meeting = (
    await booker.request('POST', '/api/v1/meetings', {
      json: booking({ participants: [booking().participants[0], { kind: 'colleague', staffId: colleague.id }] }),
    })
  ).json<{ id: string; version: number; participants: { id: string; kind: string }[] }>();
  const invited = app.client();
  await invited.login(colleague.email, password);
  const page = await eventStream(invited, `/meetings/${meeting.id}/events`);
  const panel = await eventStream(invited, `/meetings/${meeting.id}/room/events`);
  t.is(page.res.status, 200);
  t.is(panel.res.status, 200);
  await page.read(/retry:/);
  await panel.read(/retry:/);

  const seat = meeting.participants.find((p) => p.kind === 'colleague')!;
  const removed = await booker.request(
    'DELETE',
    `/api/v1/meetings/${meeting.id}/participants/${seat.id}?version=${meeting.version}`,
    { headers: { 'x-csrf-token': booker.crumb! } },
  );
  t.is(removed.status, 200, removed.text);
  t.is((await invited.get(`/meetings/${meeting.id}`)).status, 403, 'the page is refused to them now');
  t.true(await page.ended(), "the meeting page's stream ends with the access");
  t.true(await panel.ended(), "and so does the room panel's");
});

/** Whether the stream brings `what` within `waitMs`: a change it should have carried fails the test, not hangs it. */
async function hears(stream: Awaited<ReturnType<typeof eventStream>>, what: RegExp, waitMs = 10_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), waitMs);
  });
  try {
    return await Promise.race([stream.read(what).then(() => what.test(stream.received)), late]);
  } finally {
    clearTimeout(timer);
  }
}

test("the calendar's live updates cover what it lists: a clinician's own meetings in other units, as booker, leader (moved since) or colleague", async (t) => {
  const { staff: colleague, password } = await app.staff('clinician', 'Ortopedi');
  const { client: booker, staff: bookerStaff } = await loggedIn(app, 'clinician', unitA);
  const { client: sameUnit } = await loggedIn(app, 'clinician', unitA);
  const meeting = (
    await booker.request('POST', '/api/v1/meetings', {
      json: booking({ participants: [booking().participants[0], { kind: 'colleague', staffId: colleague.id }] }),
    })
  ).json<{ id: string; version: number; startsAt: string }>();

  // The colleague from Ortopedi: the meeting is in their calendar, and a change to it reaches it live.
  const invited = app.client();
  await invited.login(colleague.email, password);
  const week = (await invited.get(`/calendar?view=week&date=${meeting.startsAt.slice(0, 10)}`)).text;
  t.true(week.includes(meeting.id), 'their calendar lists it');
  const theirs = await eventStream(invited, '/calendar/events');
  await theirs.read(/retry:/);
  const renamed = await sameUnit.request('PATCH', `/api/v1/meetings/${meeting.id}`, {
    json: { version: meeting.version, title: 'Samordnad planering, nytt namn' },
  });
  t.is(renamed.status, 200, renamed.text);
  t.true(await hears(theirs, new RegExp(`"meetingId":"${meeting.id}"`)), 'the colleague hears the change');

  // The booker moved to Ortopedi keeps the meeting in their calendar: its changes reach it live too,
  // a change of the meeting's own (the title) and what the room reports (its status).
  const { client: admin } = await loggedIn(app, 'admin', 'Administration');
  const ortopedi = await findUnit(app.server.app.db, { id: colleague.unitId });
  const moved = await admin.submit(
    `/admin/staff/${bookerStaff.id}`,
    { name: bookerStaff.name, email: bookerStaff.email, hsaId: '', unit: ortopedi!.id, role: 'clinician' },
    '/admin',
  );
  t.is(moved.status, 200);
  t.true((await booker.get(`/calendar?view=week&date=${meeting.startsAt.slice(0, 10)}`)).text.includes(meeting.id));
  const bookers = await eventStream(booker, '/calendar/events');
  await bookers.read(/retry:/);
  const again = await sameUnit.request('PATCH', `/api/v1/meetings/${meeting.id}`, {
    json: { version: meeting.version + 1, title: 'Samordnad planering, igen' },
  });
  t.is(again.status, 200, again.text);
  t.true(await hears(bookers, new RegExp(`"type":"meeting.updated","meetingId":"${meeting.id}"`)), 'a change');
  await app.server.plugins.meetings.service.advanceStatus(meeting.id, 'open');
  t.true(await hears(bookers, new RegExp(`"type":"meeting.status","meetingId":"${meeting.id}"`)), "the room's status");

  // Another unit's meeting they have no part in stays out of it.
  const { client: stranger } = await loggedIn(app, 'clinician', unitA);
  const notTheirs = (await stranger.request('POST', '/api/v1/meetings', { json: booking() })).json<{ id: string }>();
  t.false(await hears(theirs, new RegExp(notTheirs.id), 1000), "the colleague's stream carries no stranger's meeting");
});
