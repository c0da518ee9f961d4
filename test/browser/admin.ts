// Hospital IT in Chromium: adds a care unit and a staff member, creates and revokes an API token,
// reads the status page while the SMTP relay and the SMSC are up and after the SMSC stops, searches
// the audit log and prints a patient's log extract after a clinician opened the patient's meeting.
// Every page any of this opens is watched: nothing may be requested from another origin.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import type { Page } from 'puppeteer-core';
import { sha256 } from '../../appliance/src/crypto.ts';
import { bind, entryState, insertGuestSession, markIdentified } from '../../appliance/src/entry/store.ts';
import { findStaff, findUnit } from '../../appliance/src/staff/store.ts';
import { axe } from '../helpers/axe.ts';
import { fill, press, submit, type TestBrowser } from '../helpers/browser.ts';
import { until } from '../helpers/wait.ts';
import type { TestServer } from '../helpers/server.ts';
import { useStage } from '../helpers/stage.ts';
import type { TestSmsc } from '../helpers/smsc.ts';
import { booking, loggedIn, patientWithBankId } from '../meetings/_booking.ts';
import { present } from '../helpers/present.ts';

let app: TestServer;
let chromium: TestBrowser;
let smsc: TestSmsc;
useStage({ relay: true, smsc: true, browser: true }, (stage) => ({ app, chromium, smsc } = stage));
/** Every request a watched page made to another origin (there must be none). */
const foreign: string[] = [];

/** A page whose every request is checked: same origin goes on, anything else is noted and refused. */
async function watchedPage(options: { ownCookies?: boolean } = {}): Promise<Page> {
  // Another person at another computer: a browser context of their own, with its own cookies.
  const page = options.ownCookies
    ? await (await chromium.browser.createBrowserContext()).newPage()
    : await chromium.page();
  page.setDefaultTimeout(15_000);
  const origin = new URL(app.url).origin;
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    const url = request.url();
    if (url.startsWith('data:') || url.startsWith('blob:') || new URL(url).origin === origin)
      return void request.continue();
    foreign.push(`${page.url()} → ${url}`);
    void request.abort();
  });
  return page;
}

async function logIn(page: Page, email: string, password: string) {
  await page.goto(`${app.url}/login`);
  await fill(page, 'E-postadress', email);
  await fill(page, 'Lösenord', password);
  await Promise.all([page.waitForNavigation(), press(page, 'Logga in')]);
}

/** Types into the text box (or search box) labelled `label` (a table's column header may carry the same words). */
async function type(
  page: Page,
  label: string,
  value: string,
  role: 'textbox' | 'searchbox' = 'textbox',
): Promise<void> {
  const input = await page.locator(`::-p-aria([name="${label}"][role="${role}"])`).waitHandle();
  await input.click({ count: 3 });
  await input.type(value);
}

/** Picks `value` in the drop-down labelled `label`. */
async function choose(page: Page, label: string, value: string): Promise<void> {
  await (await page.locator(`::-p-aria([name="${label}"][role="combobox"])`).waitHandle()).select(value);
}

const text = (page: Page, selector = 'main') => page.$eval(selector, (el) => (el as HTMLElement).innerText);

let admin: Page;
test.serial('an admin adds a care unit and a staff member in it, then creates and revokes an API token', async (t) => {
  const { staff, password } = await app.staff('admin', 'Administration');
  admin = await watchedPage();
  await logIn(admin, staff.email, password);
  await Promise.all([admin.waitForNavigation(), press(admin, 'Administration', 'link')]);
  await Promise.all([admin.waitForNavigation(), press(admin, 'Vårdenheter', 'link')]);

  await type(admin, 'Vårdenhetens namn', 'Barnhabilitering Väst');
  await type(admin, 'Telefonnummer', '010-441 00 00');
  await submit(admin, 'Lägg till vårdenhet');
  t.regex(await text(admin, '[role="status"]'), /Vårdenheten Barnhabilitering Väst har lagts till/);
  await type(admin, 'Namn på Barnhabilitering Väst', 'Barnhabilitering Väst 2');
  await submit(admin, 'Spara Barnhabilitering Väst');
  t.regex(await text(admin, '[role="status"]'), /Barnhabilitering Väst 2 är sparad/);

  await admin.goto(`${app.url}/admin/staff`);
  await type(admin, 'Namn', 'Lena Nord');
  await type(admin, 'E-postadress', 'lena.nord@region.example');
  await type(admin, 'HSA-id', 'SE2321000131-P000000000042');
  const unitId = present(
    await admin.$$eval('#staff-unit option', (options) =>
      options.find((o) => o.textContent === 'Barnhabilitering Väst 2')?.getAttribute('value'),
    ),
    'the option for Barnhabilitering Väst 2',
  );
  await choose(admin, 'Vårdenhet', unitId);
  await choose(admin, 'Roll', 'clinician');
  await submit(admin, 'Lägg till');
  t.regex(await text(admin, 'h1'), /Lena Nord/);
  t.regex(await text(admin, '[aria-label="Engångslösenord"]'), /^[A-Za-z0-9]{20}$/);
  t.is(
    await admin.$eval('#staff-unit', (s) => (s as HTMLSelectElement).selectedOptions[0]?.textContent),
    'Barnhabilitering Väst 2',
  );

  await type(admin, 'Nyckelns namn', 'journalsystem');
  await submit(admin, 'Skapa nyckel');
  const token = await admin.$eval('[aria-label="Ny API-nyckel"]', (el) => el.textContent ?? '');
  t.regex(token, /^smv_/);
  t.is((await app.client().get('/api/v1/me', { authorization: `Bearer ${token}` })).status, 200);
  await submit(admin, 'Återkalla nyckeln journalsystem');
  t.regex(await text(admin, '[role="status"]'), /Nyckeln är återkallad/);
  t.regex(await text(admin, 'table'), /journalsystem[\s\S]*Återkallad/);
  t.is((await app.client().get('/api/v1/me', { authorization: `Bearer ${token}` })).status, 401);
});

test.serial('the status page shows SMTP and SMPP working, then which one stopped', async (t) => {
  await until('the SMPP bind', () => app.server.plugins.invites.adapters().sms?.bound);
  await admin.goto(`${app.url}/admin/status`);
  t.regex(await text(admin, '[role="status"]'), /^Möten kan inte hållas med video: Jitsi Meet är inte påslaget\./);
  t.regex(
    await text(admin, '[data-part="turn"]'),
    /TURN: inte påslagen\s+Det tekniska testet kontrollerar inte förbindelsen via mediaservern/,
  );
  t.regex(await text(admin, '[data-part="sms"] h2'), /SMS \(SMPP\): fungerar/);
  t.regex(await text(admin, '[data-part="mail"] h2'), /E-post \(SMTP\): fungerar/);

  await smsc.close();
  await until('the SMPP bind to be lost', () => !app.server.plugins.invites.adapters().sms?.bound);
  await admin.reload();
  t.is(await text(admin, '[role="status"]'), 'Problem med: SMS (SMPP). Se nedan.');
  t.regex(await text(admin, '[data-part="sms"] h2'), /SMS \(SMPP\): problem/);
  t.regex(await text(admin, '[data-part="mail"] h2'), /E-post \(SMTP\): fungerar/);
});

test.serial("an audit search and a printable log extract after a clinician opened the patient's meeting", async (t) => {
  const { client, staff } = await loggedIn(app, 'clinician', 'Barn- och ungdomsmedicin');
  const patient = patientWithBankId('Tolvan Tolvansson', '19121212-1212');
  const meeting = (
    await client.request('POST', '/api/v1/meetings', { json: booking({ participants: [patient] }) })
  ).json<{ id: string }>();
  // The clinician opens the meeting in a browser of their own.
  const clinicianPage = await watchedPage({ ownCookies: true });
  const clinicianLogin = await app.staff('clinician', 'Barn- och ungdomsmedicin', { name: 'Karin Åberg' });
  await logIn(clinicianPage, clinicianLogin.staff.email, clinicianLogin.password);
  await clinicianPage.goto(`${app.url}/meetings/${meeting.id}`);
  t.regex(await text(clinicianPage, 'h1'), /Samordnad planering/);
  t.true((await text(clinicianPage)).includes('Tolvan Tolvansson'));
  await clinicianPage.close();

  await admin.goto(`${app.url}/admin/audit`);
  // A person is found by what the admin knows of them: a part of their name.
  await type(admin, 'Personal', 'karin åberg', 'searchbox');
  // Events are picked by their words, not typed as codes.
  await choose(admin, 'Händelse', 'meeting.read');
  t.is(await admin.$eval('#action', (s) => (s as HTMLSelectElement).selectedOptions[0]?.textContent), 'Öppnade mötet');
  await submit(admin, 'Sök i loggen');
  const found = await text(admin, 'table');
  t.regex(found, /Karin Åberg/);
  t.regex(found, /Öppnade mötet/);
  t.true(found.includes(meeting.id));

  await admin.goto(`${app.url}/admin/audit/extract`);
  await type(admin, 'Patientens namn', 'Tolvan Tolvansson');
  await type(admin, 'Personnummer', '19121212-1212');
  await submit(admin, 'Ta fram loggutdrag');
  const extract = await text(admin);
  t.regex(extract, /Tolvan Tolvansson, 19121212-\*\*\*\*/);
  t.regex(extract, /Karin Åberg[\s\S]*Barn- och ungdomsmedicin[\s\S]*Öppnade mötet/);
  t.regex(extract, new RegExp(`${staff.name}[\\s\\S]*Bokade mötet`));

  // On paper: no navigation and no forms, the table kept.
  await admin.emulateMediaType('print');
  t.is(await admin.$eval('header.top', (el) => getComputedStyle(el).display), 'none');
  t.is(await admin.$eval('p.no-print', (el) => getComputedStyle(el).display), 'none');
  t.not(await admin.$eval('table.audit', (el) => getComputedStyle(el).display), 'none');
  const pdf = await admin.pdf({ format: 'A4' });
  t.true(pdf.length > 1000, 'Chromium prints the extract');
  await admin.emulateMediaType('screen');
});

/** Pages a browser opens: not the API, event streams, downloads or redirects to elsewhere. */
const isPage = (path: string) =>
  !/^\/(api|health|metrics|static|lang|logout)\b/.test(path) &&
  !/(events|download|ice|upload|results|\.csv|export)$/.test(path) &&
  !path.includes('{token}');

test.serial('every page, opened by an admin and by a guest, loads without a request to another origin', async (t) => {
  const routes = app.server.table().filter((r) => r.method === 'get' && isPage(r.path));
  const { client } = await loggedIn(app, 'clinician');
  const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json<{
    id: string;
    participants: { id: string }[];
  }>();
  const unit = present(await findUnit(app.server.app.db, { name: 'Administration' }), 'the unit Administration');
  const lena = present(await findStaff(app.server.app.db, { email: 'lena.nord@region.example' }), 'Lena Nord');
  const fill = (path: string) =>
    path
      .replace('{id}', path.startsWith('/admin/staff/') ? lena.id : meeting.id)
      .replace('{participantId}', present(meeting.participants[0], 'the patient').id)
      .replace('{unitId}', unit.id)
      .replace('{role}', 'clinician');
  let opened = 0;
  for (const route of routes) {
    const reply = await admin.goto(`${app.url}${fill(route.path)}`, { waitUntil: 'load' });
    if (reply) opened += 1;
  }
  // A guest's browser: a session for the teacher invited by e-mail, identified by name.
  const guestValue = randomBytes(32).toString('base64url');
  const teacher = present(meeting.participants[1], 'the invited teacher').id;
  const db = app.server.app.db;
  await insertGuestSession(db, {
    participantId: teacher,
    person: 'main',
    meetingId: meeting.id,
    sessionHash: sha256(guestValue),
    expiresAt: new Date(Date.now() + 3_600_000),
  });
  await entryState(db, teacher, 'main');
  await bind(db, teacher, 'main', sha256(guestValue));
  await markIdentified(db, teacher, 'main', 'name');
  const guest = await watchedPage({ ownCookies: true });
  await guest.setCookie({ name: 'samverka_guest', value: guestValue, url: app.url });
  for (const route of routes.filter((r) => r.path.startsWith('/entry'))) {
    await guest.goto(`${app.url}${route.path}`, { waitUntil: 'load' });
    opened += 1;
  }
  t.log(`${opened} page loads watched`);
  t.true(opened > 20);
});

test.serial('the admin pages pass axe-core with no violations', async (t) => {
  const { staff, password } = await app.staff('admin', 'Administration');
  const page = await (await chromium.browser.createBrowserContext()).newPage();
  // Only for injecting axe-core: the pages' own policy forbids any script they did not ship.
  await page.setBypassCSP(true);
  await logIn(page, staff.email, password);
  const { client } = await loggedIn(app, 'clinician');
  const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json<{ id: string }>();
  for (const path of [
    '/admin',
    '/admin/audit',
    '/admin/audit/extract',
    `/admin/audit/extract?meeting=${meeting.id}`,
    '/admin/staff',
    `/admin/staff/${staff.id}`,
    '/admin/units',
    '/admin/status',
    `/admin/privacy?meeting=${meeting.id}`,
    '/profile',
  ]) {
    await page.goto(`${app.url}${path}`);
    t.deepEqual(await axe(page), [], path);
  }
  await page.close();
});

test.serial('no page requested anything from another origin', (t) => {
  t.deepEqual(foreign, []);
});
