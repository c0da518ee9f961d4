import test from 'ava';
import { randomBytes, scryptSync } from 'node:crypto';
import { present } from '../helpers/present.ts';
import { findAudit } from '../../appliance/src/audit/store.ts';
import { ensureFirstAdmin } from '../../appliance/src/staff/bootstrap.ts';
import { disableStaff } from '../../appliance/src/staff/service.ts';
import { hashPassword } from '../../appliance/src/staff/passwords.ts';
import { startServer, testPassword, type TestServer } from '../helpers/server.ts';
import { passStaffTechTest } from '../helpers/techtest.ts';
import { booking, loggedIn } from '../meetings/_booking.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer({ env: { LOGIN_MAX_FAILURES: '3', LOGIN_LOCKOUT_MINUTES: '15' } });
});
test.after.always(() => app?.stop());

test('a clinician logs in with e-mail and password and lands in the calendar', async (t) => {
  const { staff, password } = await app.staff('clinician');
  const browser = app.client();
  const login = await browser.login(staff.email.toUpperCase(), password);
  t.is(login.status, 302);
  t.is(login.headers.get('location'), '/');
  const cookie = present(
    login.headers.getSetCookie().find((c) => c.startsWith('samverka_sid=')),
    'the session cookie',
  );
  t.regex(cookie, /HttpOnly/);
  t.regex(cookie, /SameSite=Lax/);
  const start = await browser.get('/');
  t.is(start.headers.get('location'), '/calendar');
  const calendar = await browser.get('/calendar');
  t.is(calendar.status, 200);
  t.regex(calendar.text, new RegExp(`Inloggad som ${staff.name}`));
});

test('a page asked for without a session leads to the login page and back after login', async (t) => {
  const { staff, password } = await app.staff('clinician');
  const browser = app.client();
  const page = await browser.get('/password');
  t.is(page.status, 302);
  t.is(page.headers.get('location'), '/login?next=%2Fpassword');
  const form = await browser.get('/login?next=%2Fpassword');
  t.regex(form.text, /name="next" value="\/password"/);
  const login = await browser.submit('/login', { email: staff.email, password, next: '/password' });
  t.is(login.headers.get('location'), '/password');
});

test('login never redirects to another site', async (t) => {
  const { staff, password } = await app.staff('clinician');
  const browser = app.client();
  const login = await browser.submit('/login', { email: staff.email, password, next: '//evil.example/' });
  t.is(login.status, 400);
  t.is((await browser.get('/login?next=https://evil.example')).status, 400);
});

test('a wrong password is refused with a Swedish message that does not say which part was wrong', async (t) => {
  const { staff } = await app.staff('clinician');
  const reply = await app.client().login(staff.email, 'fel lösenord');
  t.is(reply.status, 401);
  t.regex(reply.text, /Fel e-postadress eller lösenord/);
  const unknown = await app.client().login('nobody@region.example', 'fel lösenord');
  t.is(unknown.status, 401);
  t.regex(unknown.text, /Fel e-postadress eller lösenord/);
});

test('malformed login input gets a 400 page, not a crash', async (t) => {
  const reply = await app.client().submit('/login', { email: 'not-an-address', password: '' });
  t.is(reply.status, 400);
  t.regex(reply.text, /Fyll i en giltig e-postadress/);
});

test('after repeated wrong passwords the account locks, even for the right password', async (t) => {
  const { staff, password } = await app.staff('clinician');
  const browser = app.client();
  t.is((await browser.login(staff.email, 'fel1')).status, 401);
  t.is((await browser.login(staff.email, 'fel2')).status, 401);
  const third = await browser.login(staff.email, 'fel3');
  t.is(third.status, 401);
  t.regex(third.text, /Efter flera misslyckade försök spärras kontot en stund/);
  const right = await browser.login(staff.email, password);
  t.is(right.status, 401, 'locked: the right password is refused too');
  const records = await findAudit(app.server.app.db, { staffId: undefined, action: 'login.locked' });
  t.true(records.some((r) => r.targetId === staff.id));
});

test('a form posted without the CSRF crumb is refused', async (t) => {
  const { staff, password } = await app.staff('clinician');
  const browser = app.client();
  await browser.get('/login');
  const reply = await browser.request('POST', '/login', { form: { email: staff.email, password } });
  t.is(reply.status, 403);
  const forged = await browser.request('POST', '/login', { form: { email: staff.email, password, crumb: 'forged' } });
  t.is(forged.status, 403);
});

test('logout ends the session on the server, so the old cookie no longer works', async (t) => {
  const { staff, password } = await app.staff('clinician');
  const browser = app.client();
  await browser.login(staff.email, password);
  const sid = browser.cookies.get('samverka_sid')!;
  const logout = await browser.submit('/logout', {}, '/');
  t.is(logout.status, 302);
  t.is(logout.headers.get('location'), '/login?bye=true');
  t.regex((await browser.get('/login?bye=true')).text, /Du är utloggad/);
  const replay = app.client();
  replay.cookies.set('samverka_sid', sid);
  t.is((await replay.get('/')).status, 302);
  const actions = (await findAudit(app.server.app.db, { staffId: staff.id })).map((r) => r.action);
  t.deepEqual(actions.sort(), ['login', 'logout']);
});

test('each login gets a new session id', async (t) => {
  const { staff, password } = await app.staff('clinician');
  const browser = app.client();
  await browser.login(staff.email, password);
  const first = browser.cookies.get('samverka_sid');
  await browser.request('POST', '/login', { form: { email: staff.email, password, crumb: browser.crumb! } });
  t.not(browser.cookies.get('samverka_sid'), first);
});

test('disabling an account ends its sessions at once', async (t) => {
  const { staff, password } = await app.staff('clinician');
  const browser = app.client();
  await browser.login(staff.email, password);
  t.is((await browser.get('/calendar')).status, 200);
  await disableStaff(app.server.app.db, staff.email);
  t.is((await browser.get('/calendar')).headers.get('location'), '/login?next=%2Fcalendar&session=ended');
  t.is((await app.client().login(staff.email, password)).status, 401);
});

test("the first admin's generated password is one-time: every page leads to changing it", async (t) => {
  const fresh = await startServer();
  try {
    const admin = await ensureFirstAdmin(fresh.server.app.db);
    t.truthy(admin);
    t.is(await ensureFirstAdmin(fresh.server.app.db), undefined, 'only on the very first start');
    const browser = fresh.client();
    const login = await browser.login(admin!.email, admin!.password);
    t.is(login.headers.get('location'), '/password');
    t.is((await browser.get('/')).headers.get('location'), '/password');
    const short = await browser.submit(
      '/password',
      { current: admin!.password, next: 'kort', repeat: 'kort' },
      '/password',
    );
    t.is(short.status, 400);
    t.regex(short.text, /minst 12 tecken/);
    const mismatch = await browser.submit(
      '/password',
      { current: admin!.password, next: 'ett långt lösenord', repeat: 'ett annat lösenord' },
      '/password',
    );
    t.regex(mismatch.text, /inte lika/);
    const done = await browser.submit(
      '/password',
      { current: admin!.password, next: 'ett långt lösenord', repeat: 'ett långt lösenord' },
      '/password',
    );
    t.is(done.status, 200);
    t.regex(done.text, /ditt nya lösenord gäller från och med nu/);
    t.regex(done.text, /<a class="button" href="\/admin">Fortsätt till Samverka<\/a>/, 'the way on');
    t.is((await browser.get('/')).headers.get('location'), '/admin', 'the admin starts in administration');
    t.is((await fresh.client().login(admin!.email, admin!.password)).status, 401);
  } finally {
    await fresh.stop();
  }
});

test('the pages switch to English and back', async (t) => {
  const browser = app.client();
  const sw = await browser.get('/lang/en?next=/login');
  t.is(sw.status, 302);
  t.is(sw.headers.get('location'), '/login');
  const page = await browser.get('/login');
  t.regex(page.text, /<html lang="en">/);
  t.regex(page.text, /Log in with your staff account/);
  await browser.get('/lang/sv?next=/login');
  t.regex((await browser.get('/login')).text, /Logga in med ditt personalkonto/);
});

test('sessions that have run out are cleared at the next login', async (t) => {
  const { staff, password } = await app.staff('clinician');
  const db = app.server.app.db;
  await db('staff_sessions').insert({
    id: 'e'.repeat(64),
    staff_id: staff.id,
    created_at: '2020-01-01T08:00:00.000Z',
    expires_at: '2020-01-01T20:00:00.000Z',
    method: 'password',
  });
  await app.client().login(staff.email, password);
  t.is(
    await db('staff_sessions')
      .where({ id: 'e'.repeat(64) })
      .first(),
    undefined,
  );
  t.is((await db('staff_sessions').where({ staff_id: staff.id })).length, 1, 'the new one');
});

test("changing one's password ends every other session of the account, and keeps this one", async (t) => {
  const { staff, password } = await app.staff('clinician');
  // The same person logged in on another computer (or someone who learnt the old password).
  const elsewhere = app.client();
  await elsewhere.login(staff.email, password);
  t.is((await elsewhere.get('/calendar')).status, 200);
  const here = app.client();
  await here.login(staff.email, password);
  const next = 'ett nytt långt lösenord';
  const done = await here.submit('/password', { current: password, next, repeat: next }, '/password');
  t.is(done.status, 200);
  t.is((await here.get('/calendar')).status, 200, 'the session that changed it goes on');
  t.is(
    (await elsewhere.get('/calendar')).headers.get('location'),
    '/login?next=%2Fcalendar&session=ended',
    'the other session has ended',
  );
  t.is((await app.server.app.db('staff_sessions').where({ staff_id: staff.id })).length, 1);
});

test('a session ended elsewhere (the password changed on another computer) leads to a login page that says so, not that the session expired', async (t) => {
  const { staff, password } = await app.staff('clinician');
  const elsewhere = app.client();
  await elsewhere.login(staff.email, password);
  const here = app.client();
  await here.login(staff.email, password);
  const next = 'ett nytt långt lösenord';
  t.is((await here.submit('/password', { current: password, next, repeat: next }, '/password')).status, 200);
  const way = present((await elsewhere.get('/calendar')).headers.get('location'), 'the way to the login page');
  t.is(way, '/login?next=%2Fcalendar&session=ended');
  const page = (await elsewhere.get(way)).text;
  t.regex(page, /Du har loggats ut: inloggningen avslutades någon annanstans/);
  t.notRegex(page, /inte har använt Samverka/, 'not told it was left idle');
  await elsewhere.get('/lang/en');
  t.regex((await elsewhere.get(way)).text, /You were logged out: your session was ended elsewhere/);
});

test('logged out in another tab of the same browser: the logout cleared the cookie, so the next page is the plain login page', async (t) => {
  const { staff, password } = await app.staff('clinician');
  // Two tabs of one browser share its cookies: one client.
  const browser = app.client();
  await browser.login(staff.email, password);
  t.is((await browser.submit('/logout', {}, '/')).headers.get('location'), '/login?bye=true');
  const way = present((await browser.get('/calendar')).headers.get('location'), 'the way to the login page');
  t.is(way, '/login?next=%2Fcalendar');
  t.notRegex((await browser.get(way)).text, /loggats ut/);
});

test('a browser that was never logged in is told nothing about a session: none, or a cookie not sealed here', async (t) => {
  const stranger = app.client();
  t.is((await stranger.get('/calendar')).headers.get('location'), '/login?next=%2Fcalendar');
  stranger.cookies.set('samverka_sid', 'Fe26.2**made-up**cookie');
  t.is((await stranger.get('/calendar')).headers.get('location'), '/login?next=%2Fcalendar');
  // An address typed by hand says only what it says; a reason it does not know is refused.
  t.is((await app.client().get('/login?session=stolen')).status, 400);
  t.is((await app.client().get('/login?expired=true')).status, 200, 'a bookmark from before still opens');
});

test('a password changed because the session cookie may have been copied ends the copy too: this browser goes on under a new session id', async (t) => {
  const { staff, password } = await app.staff('clinician');
  const here = app.client();
  await here.login(staff.email, password);
  // Someone copied the session cookie (a shared computer, a screenshot of the developer tools).
  const copy = app.client();
  for (const [name, value] of here.cookies) copy.cookies.set(name, value);
  t.is((await copy.get('/calendar')).status, 200);
  const before = here.cookies.get('samverka_sid');
  const next = 'ett nytt långt lösenord';
  t.is((await here.submit('/password', { current: password, next, repeat: next }, '/password')).status, 200);
  t.not(here.cookies.get('samverka_sid'), before, 'a new session cookie');
  t.is((await here.get('/calendar')).status, 200, 'the person who changed it goes on');
  t.is((await copy.get('/calendar')).status, 302, 'the copied session has ended');
  t.is((await app.server.app.db('staff_sessions').where({ staff_id: staff.id })).length, 1);
});

test('sign-ins that succeed do not count against their address: the thirty-first clinician on a Citrix server at eight gets in', async (t) => {
  // Its own server: the tries here must not spend the other tests' limit.
  const own = await startServer();
  try {
    // One account stands for the thirty-one people (the limit is the address's, over every account).
    const { staff, password } = await own.staff('clinician');
    for (let i = 1; i <= 31; i += 1) {
      const reply = await own.client().login(staff.email, password);
      t.is(reply.status, 302, `sign-in ${i}: ${reply.status}`);
    }
    // Failed tries still count: thirty of them, and the thirty-first is held off.
    const browser = own.client();
    for (let i = 0; i < 30; i += 1) t.is((await browser.login('anna.lind@region.example', `fel-${i}`)).status, 401);
    t.is((await browser.login('anna.lind@region.example', 'fel-igen')).status, 429);
  } finally {
    await own.stop();
  }
});

test('too many logins from one computer: the login page says so in Swedish, keeps the address typed and says when to try again', async (t) => {
  // Its own server: the 31 tries here must not spend the other tests' limit.
  const own = await startServer();
  try {
    const browser = own.client();
    for (let i = 0; i < 30; i += 1) t.is((await browser.login('anna.lind@region.example', `fel-${i}`)).status, 401);
    const limited = await browser.login('anna.lind@region.example', 'fel-igen');
    t.is(limited.status, 429);
    t.truthy(limited.headers.get('retry-after'));
    t.regex(limited.text, /För många inloggningsförsök från din dator. Vänta en stund och försök igen./);
    t.regex(limited.text, /value="anna.lind@region.example"/);
    t.regex(limited.text, /id="password"/, 'the form is there to try again later');
  } finally {
    await own.stop();
  }
});

test('a session that cannot be checked (the sessions table unreadable for a moment) is not logged out: an error page, and the session works again after', async (t) => {
  // Its own server: the sessions table goes away for a moment.
  const own = await startServer();
  const db = own.server.app.db;
  try {
    const { staff, password } = await own.staff('clinician');
    const clinician = own.client();
    t.is((await clinician.login(staff.email, password)).status, 302);
    await db.schema.renameTable('staff_sessions', 'staff_sessions_away');
    let page;
    try {
      page = await clinician.get('/calendar');
    } finally {
      await db.schema.renameTable('staff_sessions_away', 'staff_sessions');
    }
    t.is(page.status, 500, 'an error, not "you are not logged in"');
    t.not(page.headers.get('location'), '/login?next=%2Fcalendar');
    t.is((await clinician.get('/calendar')).status, 200, 'the same session, still in the browser, works again');
  } finally {
    await own.stop();
  }
});

// "Blåbär" as a Windows keyboard types it (å and ä each one code point) and as macOS or a
// phone's keyboard may send it (a plus a combining ring, a plus a combining diaeresis).
const composed = 'Blåbärssylt på fredag';
const decomposed = composed.normalize('NFD');

test('a password with å, ä or ö works whichever keyboard types it: the composed and decomposed forms are one password', async (t) => {
  t.not(composed, decomposed, 'the test types two different strings');
  const { staff } = await app.staff('clinician');
  await app.server.app
    .db('staff')
    .where({ id: staff.id })
    .update({ password_hash: await hashPassword(composed) });
  t.is((await app.client().login(staff.email, decomposed)).status, 302, 'set composed, typed decomposed');
  t.is((await app.client().login(staff.email, composed)).status, 302, 'and composed');
  // Changed on a Mac (decomposed), typed on the ward's Windows computer (composed).
  const mac = app.client();
  await mac.login(staff.email, composed);
  const next = 'Ögonblick för ändring';
  const nextDecomposed = next.normalize('NFD');
  const changed = await mac.submit(
    '/password',
    { current: decomposed, next: nextDecomposed, repeat: next },
    '/password',
  );
  t.is(changed.status, 200, 'the current password typed decomposed, the new one once in each form');
  t.is((await app.client().login(staff.email, next)).status, 302);
  t.is((await app.client().login(staff.email, nextDecomposed)).status, 302);
});

test('a password stored before passwords were normalised still works, and from then on in either form', async (t) => {
  const { staff } = await app.staff('clinician');
  const db = app.server.app.db;
  // The hash an earlier version stored: of the decomposed text exactly as the Mac sent it.
  const salt = randomBytes(16);
  const key = scryptSync(decomposed, salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
  const legacy = ['scrypt', 2 ** 15, 8, 1, salt.toString('base64'), key.toString('base64')].join('$');
  await db('staff').where({ id: staff.id }).update({ password_hash: legacy });
  t.is((await app.client().login(staff.email, decomposed)).status, 302, 'typed as it was set: it works');
  const stored = await db('staff').where({ id: staff.id }).first('password_hash');
  t.not(stored?.password_hash, legacy, 'the login stored the normalised form in its place');
  t.is((await app.client().login(staff.email, composed)).status, 302, 'now typed composed too');
  t.is((await app.client().login(staff.email, decomposed)).status, 302, 'and still decomposed');
  // Another account with the same old hash, first typed on a keyboard that composes.
  const other = await app.staff('clinician');
  await db('staff').where({ id: other.staff.id }).update({ password_hash: legacy });
  t.is(
    (await app.client().login(other.staff.email, composed)).status,
    302,
    'typed composed: the decomposed form is tried',
  );
  t.is((await app.client().login(other.staff.email, 'Blabarssylt pa fredag')).status, 401, 'but nothing else');
});

// Serial: another test's login meanwhile would clear the session made to run out (startSession),
// and its login page would then go by the end its cookie carries, twelve real hours away.
test.serial(
  'the session cookie lasts as long as the browser: closing it on a shared ward computer ends the session, and the server still ends it after 12 hours',
  async (t) => {
    const { staff, password } = await app.staff('clinician');
    const browser = app.client();
    const login = await browser.login(staff.email, password);
    const cookie = present(
      login.headers.getSetCookie().find((c) => c.startsWith('samverka_sid=')),
      'the session cookie',
    );
    t.notRegex(cookie, /max-age/i, 'no lifetime of its own');
    t.notRegex(cookie, /expires/i);
    t.is((await browser.get('/calendar')).status, 200);
    const db = app.server.app.db;
    const session = present(await db('staff_sessions').where({ staff_id: staff.id }).first(), 'the session');
    const hours = (new Date(session.expires_at).getTime() - new Date(session.created_at).getTime()) / 3600_000;
    t.is(Math.round(hours), 12, 'the server ends it 12 hours after the login');
    await db('staff_sessions')
      .where({ id: session.id })
      .update({ expires_at: new Date(Date.now() - 1000).toISOString() });
    t.is(
      (await browser.get('/calendar')).headers.get('location'),
      '/login?next=%2Fcalendar&session=lifetime',
      'over: the cookie opens nothing',
    );
  },
);

test('a password change keeps what belongs to the session that made it: its technical test, and the open meeting page is still one access', async (t) => {
  const { client, staff } = await loggedIn(app, 'clinician');
  const booked = await client.request('POST', '/api/v1/meetings', { json: booking() });
  t.is(booked.status, 201, booked.text);
  const meetingId = booked.json<{ id: string }>().id;
  await passStaffTechTest(app, staff.id);
  t.notRegex((await client.get('/profile')).text, /Du har inte gjort något tekniktest/, 'tested in this session');
  // The meeting page is open; its live refreshes carry the view's token.
  const page = await client.get(`/meetings/${meetingId}`);
  const pageView = present(/data-page-view="([^"]+)"/.exec(page.text)?.[1], "the view's token");
  const reads = async () => (await findAudit(app.server.app.db, { meetingId, action: 'meeting.read' })).length;
  const before = await reads();

  const next = 'ett nytt långt lösenord';
  t.is((await client.submit('/password', { current: testPassword, next, repeat: next }, '/password')).status, 200);

  t.notRegex(
    (await client.get('/profile')).text,
    /Du har inte gjort något tekniktest/,
    'the test taken before the change still counts: the session goes on',
  );
  t.is((await client.get(`/meetings/${meetingId}`, { 'x-page-view': pageView, accept: 'text/html' })).status, 200);
  t.is(await reads(), before, "the open page's refresh is part of the same view, not a new access");
});
