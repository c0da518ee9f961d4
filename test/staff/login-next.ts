// A staff session that runs out on a long address - a connection-log timeline, which carries the
// support's sealed search to return to - leads to the login form and, after the login, back to that
// address. One too long to keep gives the login form all the same, and the login lands on the
// person's start page. A password that must be changed first (the first admin's one-time one, or
// one an admin reset) keeps that address through the password form, with the login's checks.
import { randomUUID } from 'node:crypto';
import test from 'ava';
import { insertMeeting } from '../../appliance/src/meetings/store.ts';
import { longestPath } from '../../appliance/src/staff/schemas.ts';
import { present } from '../helpers/present.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer();
});
test.after.always(() => app?.stop());

/** The hidden `next` of the login form, as the browser would post it (entities read back). */
const formNext = (html: string) =>
  html
    .match(/name="next" value="([^"]*)"/)?.[1]
    ?.replace(/&#x3D;/g, '=')
    .replace(/&amp;/g, '&');

test('a session run out on a support search’s timeline leads to the login form and back to that timeline', async (t) => {
  const db = app.server.app.db;
  const { staff, password } = await app.staff('support', 'Support');
  const meetingId = await insertMeeting(db, {
    unitId: staff.unitId,
    title: 'Uppföljning',
    startsAt: new Date(Date.now() + 86_400_000),
    durationMinutes: 60,
    bookedBy: staff.id,
    ledBy: staff.id,
    documentationPlan: 'Journal',
    testMeeting: false,
  });
  const browser = app.client();
  t.is((await browser.login(staff.email, password)).status, 302);
  // The longest search the form takes: a name of 200 characters that each seal to six (JSON's \u0001).
  const searched = await browser.submit(
    '/connlog',
    { name: '\u0001'.repeat(200), phone: '+46 (0)70-123 45 67 89 01 23 4', meetingId, unitId: staff.unitId },
    '/connlog',
  );
  t.is(searched.status, 303);
  const sealed = present(
    new URL(searched.headers.get('location')!, app.url).searchParams.get('s'),
    'the sealed search',
  );
  // The timeline as the results link it, filtered to one person's errors, on its last page.
  const timeline = `/connlog/meetings/${meetingId}?${new URLSearchParams({
    participantId: randomUUID(),
    errors: '1',
    s: sealed,
    resultPage: '100000',
    page: '100000',
  })}`;
  t.true(timeline.length > 2000, `the address is ${timeline.length} characters`);
  t.is((await browser.get(timeline)).status, 200);

  // The session ends (the row gone, as a logout elsewhere leaves it).
  await db('staff_sessions').where({ staff_id: staff.id }).delete();
  const asked = await browser.get(timeline);
  t.is(asked.status, 302);
  const loginAddress = present(asked.headers.get('location'), 'the way to the login page');
  t.is(loginAddress, `/login?next=${encodeURIComponent(timeline)}&session=ended`);
  const form = await browser.get(loginAddress);
  t.is(form.status, 200, 'the login form, not a refusal');
  const next = present(formNext(form.text), 'the page to return to, in the form');
  t.is(next, timeline);

  const posted = await browser.submit('/login', { email: staff.email, password, next });
  t.is(posted.status, 302);
  t.is(posted.headers.get('location'), timeline);
  t.is((await browser.get(timeline)).status, 200, 'back at the timeline');
});

test('an address too long to keep gives the login form all the same, and the login lands on the start page', async (t) => {
  const { staff, password } = await app.staff('clinician');
  const tooLong = `/calendar?q=${'x'.repeat(longestPath)}`;
  const browser = app.client();
  const form = await browser.get(`/login?next=${encodeURIComponent(tooLong)}`);
  t.is(form.status, 200);
  t.regex(form.text, /name="password"/);
  t.is(formNext(form.text), undefined, 'nothing to return to');
  // A form posted with it anyway (a page kept open from before) logs in all the same.
  const posted = await browser.submit('/login', { email: staff.email, password, next: tooLong });
  t.is(posted.status, 302);
  t.is(posted.headers.get('location'), '/');
});

test('a login form sent without its password keeps the page to return to', async (t) => {
  const { staff, password } = await app.staff('clinician');
  const browser = app.client();
  const next = '/calendar?week=2026-W48';
  await browser.get(`/login?next=${encodeURIComponent(next)}`);
  const early = await browser.submit('/login', { email: staff.email, password: '', next });
  t.is(early.status, 400);
  t.is(formNext(early.text), next);
  const posted = await browser.submit('/login', { email: staff.email, password, next: formNext(early.text) ?? '' });
  t.is(posted.headers.get('location'), next);
});

/** An attribute as the browser reads it (the entities Handlebars writes read back). */
const attribute = (html: string, pattern: RegExp) =>
  pattern
    .exec(html)?.[1]
    ?.replace(/&#x3D;/g, '=')
    .replace(/&amp;/g, '&');
const formAction = (html: string) => attribute(html, /<form method="post" action="(\/password[^"]*)"/);
const wayOn = (html: string) => attribute(html, /<a class="button" href="([^"]*)">Fortsätt till Samverka<\/a>/);

test('a password that must be changed at the login keeps the page asked for: after the change the way on leads there', async (t) => {
  const { staff, password } = await app.staff('clinician');
  // An admin reset it (or it is the first admin's one-time password): it must be changed first.
  await app.server.app.db('staff').where({ id: staff.id }).update({ password_must_change: true });
  const browser = app.client();
  const asked = '/calendar?view=week&date=2026-12-07';
  const turned = await browser.get(asked);
  t.is(turned.headers.get('location'), `/login?next=${encodeURIComponent(asked)}`);
  const form = await browser.get(present(turned.headers.get('location'), 'the login address'));
  const posted = await browser.submit('/login', {
    email: staff.email,
    password,
    next: present(formNext(form.text), 'the page to return to'),
  });
  t.is(posted.headers.get('location'), `/password?next=${encodeURIComponent(asked)}`);
  const change = await browser.get(present(posted.headers.get('location'), 'the password form'));
  t.is(change.status, 200);
  // Another page asked for before the password is changed leads to the form on the way there too.
  t.is(
    (await browser.get('/meetings/new')).headers.get('location'),
    `/password?next=${encodeURIComponent('/meetings/new')}`,
  );

  const action = present(formAction(change.text), "the password form's address");
  t.is(action, `/password?next=${encodeURIComponent(asked)}`);
  const short = await browser.submit(action, { current: password, next: 'kort', repeat: 'kort' });
  t.is(short.status, 400);
  t.is(formAction(short.text), action, 'a refused new password keeps the way on');
  const chosen = 'ett nytt långt lösenord';
  const done = await browser.submit(action, { current: password, next: chosen, repeat: chosen });
  t.is(done.status, 200);
  t.is(wayOn(done.text), asked, 'on to the page asked for, not the start page');
  t.is((await browser.get(asked)).status, 200);
});

test("the password form's way on is a path on this site, as a login's: another site is refused, one too long is let go", async (t) => {
  const { staff, password } = await app.staff('clinician');
  const db = app.server.app.db;
  await db('staff').where({ id: staff.id }).update({ password_must_change: true });
  const browser = app.client();
  t.is((await browser.login(staff.email, password)).headers.get('location'), '/password');
  for (const away of ['https://evil.example/', '//evil.example/', '/\\evil.example'])
    t.is((await browser.get(`/password?next=${encodeURIComponent(away)}`)).status, 400, away);
  const before = (await db('staff').where({ id: staff.id }).first()).password_hash;
  const chosen = 'ett nytt långt lösenord';
  const refused = await browser.submit(`/password?next=${encodeURIComponent('//evil.example/')}`, {
    current: password,
    next: chosen,
    repeat: chosen,
  });
  t.is(refused.status, 400);
  t.is((await db('staff').where({ id: staff.id }).first()).password_hash, before, 'nothing changed');

  const tooLong = `/calendar?q=${'x'.repeat(longestPath)}`;
  const form = await browser.get(`/password?next=${encodeURIComponent(tooLong)}`);
  t.is(form.status, 200, 'the form all the same');
  t.is(formAction(form.text), '/password');
  const done = await browser.submit('/password', { current: password, next: chosen, repeat: chosen });
  t.is(done.status, 200);
  t.is(wayOn(done.text), '/calendar', "the clinician's start page");
});
