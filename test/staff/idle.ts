// A staff session ends after SESSION_IDLE_MINUTES without the person's activity, beside its 12
// hours: a clinician who walks away from a shared ward computer is logged out there. The tests move
// the session's last activity back in the database instead of waiting.
import test from 'ava';
import { present } from '../helpers/present.ts';
import { recheckStaffStreams } from '../../appliance/src/http/sse.ts';
import { eventStream, startServer, testPassword, type TestServer } from '../helpers/server.ts';
import { loggedIn } from '../meetings/_booking.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer({ env: { SESSION_IDLE_MINUTES: '20', REMINDER_OFFSETS: 'none' } });
});
test.after.always(() => app?.stop());

const sessionOf = (staffId: string) =>
  app.server.app.db<{ staff_id: string; seen_at: string | Date }>('staff_sessions').where({ staff_id: staffId });
/** The person's last activity in their session, as if it were `minutes` ago. */
const lastSeen = (staffId: string, minutes: number) =>
  sessionOf(staffId).update({ seen_at: new Date(Date.now() - minutes * 60_000).toISOString() });
const seenAt = async (staffId: string) => {
  const row = await sessionOf(staffId).first();
  return new Date(present(row?.seen_at, 'the session')).getTime();
};

test('a session idle longer than the limit leads to the login page, which says why and leads back to the page asked for', async (t) => {
  const { client, staff } = await loggedIn(app, 'clinician');
  t.is((await client.get('/calendar?view=week')).status, 200);
  await lastSeen(staff.id, 21);
  const page = await client.get('/calendar?view=week');
  t.is(page.status, 302);
  t.is(page.headers.get('location'), '/login?next=%2Fcalendar%3Fview%3Dweek&session=idle');
  const login = await client.get(present(page.headers.get('location'), 'the way to the login page'));
  t.regex(login.text, /Du har loggats ut eftersom du inte har använt Samverka på 20 minuter/);
  t.regex(login.text, /name="next" value="\/calendar\?view&#x3D;week"/);
  const inEnglish = app.client();
  await inEnglish.get('/lang/en');
  const english = await inEnglish.get('/login?session=idle');
  t.regex(english.text, /You were logged out because Samverka was not used for 20 minutes/);
  const again = await client.submit('/login', {
    email: staff.email,
    password: testPassword,
    next: '/calendar?view=week',
  });
  t.is(again.headers.get('location'), '/calendar?view=week', 'back where they were');
  t.is((await client.get('/calendar?view=week')).status, 200);
});

test('a page asked for keeps the session open; the limit counts from the last one', async (t) => {
  const { client, staff } = await loggedIn(app, 'clinician');
  await lastSeen(staff.id, 19);
  const before = await seenAt(staff.id);
  t.is((await client.get('/calendar')).status, 200, 'within the limit');
  t.true((await seenAt(staff.id)) > before, 'the page is activity');
  await lastSeen(staff.id, 19);
  t.is((await client.get('/profile')).status, 200, 'counted from the page before, not from the login');
});

test("a live page's stream and its own refreshes do not keep an idle session open, and the stream ends with it", async (t) => {
  const { client, staff } = await loggedIn(app, 'clinician');
  await lastSeen(staff.id, 15);
  const before = await seenAt(staff.id);
  const stream = await eventStream(client, '/calendar/events');
  t.is(stream.res.status, 200);
  await stream.read(/retry:/);
  t.is((await client.get('/calendar', { 'x-live-refresh': 'true' })).status, 200, "the page's refresh is answered");
  await recheckStaffStreams(app.server);
  t.is(await seenAt(staff.id), before, 'neither is activity');

  await lastSeen(staff.id, 21);
  await recheckStaffStreams(app.server);
  t.true(await stream.ended(), 'the stream of an idle session ends');
  t.regex(present((await client.get('/calendar')).headers.get('location'), 'the login page'), /session=idle/);
});

test('a form sent after the session went idle leads back to the page the form was on', async (t) => {
  const { client: other, staff: someone } = await loggedIn(app, 'clinician');
  t.is((await other.get('/profile')).status, 200);
  await lastSeen(someone.id, 25);
  const refused = await other.request('POST', '/password', {
    form: { crumb: other.crumb ?? '', current: 'x', next: 'y', repeat: 'y' },
    headers: { referer: `${other.base}/profile` },
  });
  t.is(refused.status, 302);
  t.is(refused.headers.get('location'), '/login?next=%2Fprofile&session=idle');
});

test('API calls with an idle session are refused with 401', async (t) => {
  const { client, staff } = await loggedIn(app, 'clinician');
  t.is((await client.get('/api/v1/me')).status, 200);
  await lastSeen(staff.id, 21);
  t.is((await client.get('/api/v1/me')).status, 401);
});
