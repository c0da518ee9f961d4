// Access follows the care unit a clinician belongs to now. Moved by the admin to another unit, they
// no longer open or see the old unit's meetings; the meetings they booked, lead or take part in
// stay theirs (ARCHITECTURE.md, "Who sees a meeting").
import test from 'ava';
import { findAudit } from '../../appliance/src/audit/store.ts';
import { findUnit } from '../../appliance/src/staff/store.ts';
import { present } from '../helpers/present.ts';
import { eventStream, startServer, type TestServer } from '../helpers/server.ts';
import { booking, inDays, loggedIn } from '../meetings/_booking.ts';
import { toClinicTime } from '../../appliance/src/common/clock.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer({ env: { REMINDER_OFFSETS: 'none' } });
});
test.after.always(() => app?.stop());

test("a clinician moved to another unit is refused the old unit's meetings, and keeps those they booked or take part in", async (t) => {
  const { client: moving, staff } = await loggedIn(app, 'clinician', 'Kardiologi');
  const { client: colleague } = await loggedIn(app, 'clinician', 'Kardiologi');
  const book = async (client: typeof moving, extra: Record<string, unknown> = {}) => {
    const reply = await client.request('POST', '/api/v1/meetings', {
      json: booking({ startsAt: inDays(3), ...extra }),
    });
    t.is(reply.status, 201, reply.text);
    return reply.json<{ id: string; startsAt: string; unitId: string }>();
  };
  const unitsMeeting = await book(colleague);
  const ownBooking = await book(moving);
  const [patient] = booking().participants;
  const invitedTo = await book(colleague, { participants: [patient, { kind: 'colleague', staffId: staff.id }] });
  const page = await moving.get(`/meetings/${unitsMeeting.id}`);
  t.is(page.status, 200, 'a meeting of their unit, before the move');
  const pageView = present(/data-page-view="([^"]+)"/.exec(page.text)?.[1], "the open page's view token");
  const stream = await eventStream(moving, `/meetings/${unitsMeeting.id}/events`);
  await stream.read(/retry:/);

  const { client: admin } = await loggedIn(app, 'admin', 'Administration');
  await app.staff('clinician', 'Ortopedi');
  const newUnit = present(await findUnit(app.server.app.db, { name: 'Ortopedi' }), 'the new unit');
  const moved = await admin.submit(
    `/admin/staff/${staff.id}`,
    { name: staff.name, email: staff.email, hsaId: '', unit: newUnit.id, role: 'clinician' },
    '/admin',
  );
  t.is(moved.status, 200);
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
