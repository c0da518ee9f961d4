// Access follows the care unit a clinician belongs to now. Moved by the admin to another unit, they
// no longer open or see the old unit's meetings; the meetings they booked, lead or take part in
// stay theirs (ARCHITECTURE.md, "Who sees a meeting").
import test, { type ExecutionContext } from 'ava';
import { findAudit } from '../../appliance/src/audit/store.ts';
import { findUnit } from '../../appliance/src/staff/store.ts';
import type { CareUnit, Staff } from '../../appliance/src/staff/model.ts';
import { present } from '../helpers/present.ts';
import { eventStream, startServer, type TestServer } from '../helpers/server.ts';
import { booking, inDays, loggedIn } from '../meetings/_booking.ts';
import { toClinicTime } from '../../appliance/src/common/clock.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer({ env: { REMINDER_OFFSETS: 'none' } });
});
test.after.always(() => app?.stop());

type Client = ReturnType<TestServer['client']>;
type Booked = { id: string; startsAt: string; unitId: string };

/** A meeting booked through the API, `days` ahead. */
async function bookAs(t: ExecutionContext, client: Client, days: number, extra: Record<string, unknown> = {}) {
  const reply = await client.request('POST', '/api/v1/meetings', {
    json: booking({ startsAt: inDays(days), ...extra }),
  });
  t.is(reply.status, 201, reply.text);
  return reply.json<Booked>();
}

/** The admin moves the clinician to `unit` (made if new), as on the admin's staff page. */
async function moveTo(t: ExecutionContext, staff: Staff, unit: string): Promise<CareUnit> {
  const { client: admin } = await loggedIn(app, 'admin', 'Administration');
  await app.staff('clinician', unit);
  const newUnit = present(await findUnit(app.server.app.db, { name: unit }), 'the new unit');
  const moved = await admin.submit(
    `/admin/staff/${staff.id}`,
    { name: staff.name, email: staff.email, hsaId: '', unit: newUnit.id, role: 'clinician' },
    '/admin',
  );
  t.is(moved.status, 200);
  return newUnit;
}

test("a clinician moved to another unit is refused the old unit's meetings, and keeps those they booked or take part in", async (t) => {
  const { client: moving, staff } = await loggedIn(app, 'clinician', 'Kardiologi');
  const { client: colleague } = await loggedIn(app, 'clinician', 'Kardiologi');
  const book = (client: Client, extra: Record<string, unknown> = {}) => bookAs(t, client, 3, extra);
  const unitsMeeting = await book(colleague);
  const ownBooking = await book(moving);
  const [patient] = booking().participants;
  const invitedTo = await book(colleague, { participants: [patient, { kind: 'colleague', staffId: staff.id }] });
  const page = await moving.get(`/meetings/${unitsMeeting.id}`);
  t.is(page.status, 200, 'a meeting of their unit, before the move');
  const pageView = present(/data-page-view="([^"]+)"/.exec(page.text)?.[1], "the open page's view token");
  const stream = await eventStream(moving, `/meetings/${unitsMeeting.id}/events`);
  await stream.read(/retry:/);

  await moveTo(t, staff, 'Ortopedi');
  t.true(await stream.ended(), "the old unit's meeting stops being followed live");

  t.is((await moving.get(`/meetings/${unitsMeeting.id}`)).status, 403, "the old unit's meeting page");
  t.is((await moving.get(`/api/v1/meetings/${unitsMeeting.id}`)).status, 403, 'nor through the API');
  t.is(
    (await moving.get(`/meetings/${unitsMeeting.id}`, { 'x-page-view': pageView, 'x-live-refresh': 'true' })).status,
    403,
    'nor by the refresh of the page opened before the move',
  );
  t.is((await moving.get(`/meetings/${unitsMeeting.id}/room`)).status, 403, 'nor its room');
  t.is((await moving.get(`/meetings/${unitsMeeting.id}/events`)).status, 403, 'nor its live events');
  const week = await moving.get(`/calendar?view=week&date=${toClinicTime(new Date(unitsMeeting.startsAt)).date}`);
  t.false(week.text.includes(unitsMeeting.id), 'not listed in the calendar');
  const from = encodeURIComponent(inDays(0));
  const to = encodeURIComponent(inDays(7));
  const listed = await moving.get(`/api/v1/meetings?from=${from}&to=${to}`);
  t.is(listed.status, 200);
  t.false(listed.text.includes(unitsMeeting.id), 'nor in the API list');
  t.is(
    (await moving.get(`/api/v1/meetings?from=${from}&to=${to}&unitId=${unitsMeeting.unitId}`)).status,
    403,
    "the old unit's list is refused",
  );

  t.is((await moving.get(`/meetings/${ownBooking.id}`)).status, 200, 'the meeting they booked stays theirs');
  t.is((await moving.get(`/meetings/${invitedTo.id}`)).status, 200, 'and the one they take part in');
  const outside = await findAudit(app.server.app.db, { outsideUnit: true, meetingId: ownBooking.id });
  t.true(
    outside.some((r) => r.staffId === staff.id && r.action === 'meeting.read'),
    'opened from the new unit, it is marked as an access outside their unit',
  );
});

test("moved to another unit, a clinician's calendar and list still show the meetings they booked, lead or take part in in the old one", async (t) => {
  const { client: moving, staff } = await loggedIn(app, 'clinician', 'Neurologi');
  const { client: colleague } = await loggedIn(app, 'clinician', 'Neurologi');
  const book = (client: Client, extra: Record<string, unknown> = {}) => bookAs(t, client, 4, extra);
  const [patient] = booking().participants;
  const unitsMeeting = await book(colleague);
  const booked = await book(moving);
  const led = await book(colleague, { ledBy: staff.id });
  const takesPart = await book(colleague, { participants: [patient, { kind: 'colleague', staffId: staff.id }] });
  const removedFrom = await book(colleague, { participants: [patient, { kind: 'colleague', staffId: staff.id }] });
  const read = (await colleague.get(`/api/v1/meetings/${removedFrom.id}`)).json<{
    version: number;
    participants: { id: string; staffId: string | null }[];
  }>();
  const them = present(
    read.participants.find((p) => p.staffId === staff.id),
    'the colleague taking part',
  );
  const removal = await colleague.request(
    'DELETE',
    `/api/v1/meetings/${removedFrom.id}/participants/${them.id}?version=${read.version}`,
    { headers: { 'x-csrf-token': colleague.crumb ?? '' } },
  );
  t.is(removal.status, 200, removal.text);

  const newUnit = await moveTo(t, staff, 'Reumatologi');

  const week = await moving.get(`/calendar?view=week&date=${toClinicTime(new Date(booked.startsAt)).date}`);
  t.is(week.status, 200);
  const from = encodeURIComponent(inDays(0));
  const to = encodeURIComponent(inDays(7));
  const listed = await moving.get(`/api/v1/meetings?from=${from}&to=${to}`);
  t.is(listed.status, 200);
  for (const [meeting, what] of [
    [booked, 'the meeting they booked'],
    [led, 'the one they lead'],
    [takesPart, 'the one they take part in'],
  ] as const) {
    t.true(week.text.includes(meeting.id), `${what}, in the week view`);
    t.true(listed.text.includes(meeting.id), `${what}, in the API list`);
  }
  for (const [meeting, what] of [
    [unitsMeeting, "the old unit's other meeting"],
    [removedFrom, 'the one they were removed from'],
  ] as const) {
    t.false(week.text.includes(meeting.id), `not ${what}, in the week view`);
    t.false(listed.text.includes(meeting.id), `nor in the API list`);
  }
  const ownUnit = await moving.get(`/api/v1/meetings?from=${from}&to=${to}&unitId=${newUnit.id}`);
  t.false(ownUnit.text.includes(booked.id), 'asked for their unit by name, that unit alone');
});
