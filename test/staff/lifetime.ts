// A staff session ends SESSION_HOURS after its login, however active the person (README, the
// configuration table): a working day by default, set by hospital IT like the idle limit.
import test from 'ava';
import { present } from '../helpers/present.ts';
import { whySessionEnded } from '../../appliance/src/staff/service.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { loggedIn } from '../meetings/_booking.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer({ env: { SESSION_HOURS: '2', REMINDER_OFFSETS: 'none' } });
});
test.after.always(() => app?.stop());

const sessionOf = (staffId: string) =>
  app.server.app
    .db<{ staff_id: string; created_at: string | Date; expires_at: string | Date }>('staff_sessions')
    .where({ staff_id: staffId })
    .first();

test('a session ends SESSION_HOURS after its login', async (t) => {
  const { staff } = await loggedIn(app, 'clinician');
  const session = present(await sessionOf(staff.id), 'the session');
  const lifetime = new Date(session.expires_at).getTime() - new Date(session.created_at).getTime();
  t.is(lifetime, 2 * 3600_000);
});

// Serial: another test's login meanwhile would clear the session made to run out (startSession).
test.serial('a session past its hours leads to a login page that says the login lasts at most that long', async (t) => {
  const { client, staff } = await loggedIn(app, 'clinician');
  await app.server.app
    .db('staff_sessions')
    .where({ staff_id: staff.id })
    .update({ expires_at: new Date(Date.now() - 1000).toISOString() });
  const way = present((await client.get('/calendar')).headers.get('location'), 'the way to the login page');
  t.is(way, '/login?next=%2Fcalendar&session=lifetime');
  t.regex((await client.get(way)).text, /Du har loggats ut eftersom en inloggning gäller i högst 2 timmar/);
  await client.get('/lang/en');
  t.regex((await client.get(way)).text, /You were logged out because a login lasts at most 2 hours/);
});

test('a session past its hours whose row a later login cleared is still told by the end its cookie carries', async (t) => {
  const db = app.server.app.db;
  const now = new Date();
  const gone = 'a-session-id-whose-row-is-gone';
  t.is(await whySessionEnded(db, gone, new Date(now.getTime() - 1000), 30, now), 'lifetime');
  t.is(await whySessionEnded(db, gone, new Date(now.getTime() + 3600_000), 30, now), 'ended', 'ended before its hours');
  t.is(await whySessionEnded(db, gone, undefined, 30, now), 'ended', 'a cookie from before it carried the end');
});
