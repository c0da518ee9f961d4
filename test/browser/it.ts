// Hospital IT and the log checks in Chromium at 1280 px: the status page says what is switched off
// and what that means, in Swedish; the audit log reads in words and holds one record per page view
// however often the page updates itself; the outbox shows clinic time and whole words; a new
// account starts as a clinician in a unit the admin picks, and its first password change says
// every problem at once and then leads on.
import test from 'ava';
import type { Page } from 'puppeteer-core';
import { brokenText, fill, press, screenshot, submit, type TestBrowser } from '../helpers/browser.ts';
import { testPassword, type TestServer } from '../helpers/server.ts';
import { useStage } from '../helpers/stage.ts';
import { passStaffTechTest } from '../helpers/techtest.ts';
import { until } from '../helpers/wait.ts';
import { booking, loggedIn } from '../meetings/_booking.ts';
import { present } from '../helpers/present.ts';

let app: TestServer;
let chromium: TestBrowser;
useStage({ relay: true, browser: true }, (stage) => ({ app, chromium } = stage));

/** A person at their own computer: a browser context of their own, logged in, at 1280 × 800. */
async function loggedInPage(email: string, password = testPassword): Promise<Page> {
  const page = await (await chromium.browser.createBrowserContext()).newPage();
  page.setDefaultTimeout(15_000);
  await page.setViewport({ width: 1280, height: 800 });
  await page.goto(`${app.url}/login`);
  await fill(page, 'E-postadress', email);
  await fill(page, 'Lösenord', password);
  await Promise.all([page.waitForNavigation(), press(page, 'Logga in')]);
  return page;
}

/** Types into the text box labelled `label` (a table's column header may carry the same words). */
async function type(page: Page, label: string, value: string): Promise<void> {
  const input = await page.locator(`::-p-aria([name="${label}"][role="textbox"])`).waitHandle();
  await input.click({ count: 3 });
  await input.type(value);
}

const text = (page: Page, selector = 'main') => page.$eval(selector, (el) => (el as HTMLElement).innerText);

test.serial(
  'the status page does not call a part that is switched off "working", and says what it means',
  async (t) => {
    const { staff } = await app.staff('admin', 'Administration');
    const page = await loggedInPage(staff.email);
    await page.goto(`${app.url}/admin/status`);
    await screenshot(page, 'it-status');
    const summary = await text(page, '[role="status"]');
    t.notRegex(summary, /Alla delar/);
    t.regex(summary, /Möten kan inte hållas med video: Jitsi Meet är inte påslaget/);
    t.regex(await text(page, '[data-part="xmpp"]'), /^Rumsstyrning \(XMPP\): inte påslagen\s+Mötesrummen styrs inte/);
    t.regex(await text(page, '[data-part="jitsi"]'), /^Jitsi Meet: inte påslagen\s+Mötessidan har ingen video/);
    t.regex(await text(page, '[data-part="turn"]'), /^TURN: inte påslagen/);
    t.notRegex(await text(page), /\bnot set\b|\boff \(|answers|SQLite open/, 'no English from the checks');
    await page.browserContext().close();
  },
);

test.serial(
  'the audit log holds one record per page view however often the page updates itself, in words',
  async (t) => {
    const { client, staff: clinician } = await loggedIn(app);
    const meeting = (
      await client.request('POST', '/api/v1/meetings', {
        json: booking({ startsAt: new Date(Date.now() + 3600_000).toISOString() }),
      })
    ).json();
    const page = await loggedInPage(clinician.email);
    await page.goto(`${app.url}/meetings/${meeting.id}`);
    await page.waitForFunction(() => !(document.querySelector('.live-note') as HTMLElement).hidden);
    // Ten changes while the clinician keeps the page open: each one refreshes it live.
    const statuses = ['delivered', 'opened', 'identified', 'tech_tested', 'waiting'] as const;
    for (const [i, status] of [...statuses, ...statuses].entries()) {
      const participant = meeting.participants[i % 2];
      app.server.app.bus.emit('participant.status', { meetingId: meeting.id, participantId: participant.id, status });
      await new Promise((r) => setTimeout(r, 250));
    }
    await page.waitForFunction(() => /Väntar/.test(document.querySelector('table.participants')?.textContent ?? ''));
    // The meeting room's panel refreshes on every change in the room, too.
    await passStaffTechTest(app, clinician.id);
    // Its event stream answers once it listens: changes from then on reach the page.
    const listening = page.waitForResponse((r) => r.url().endsWith('/room/events'));
    await page.goto(`${app.url}/meetings/${meeting.id}/room`);
    await listening;
    for (let i = 0; i < 3; i++) {
      const refreshed = page.waitForResponse((r) => r.url().endsWith('/room/panel'));
      app.server.app.bus.emit('participant.status', {
        meetingId: meeting.id,
        participantId: meeting.participants[0].id,
        status: 'waiting',
      });
      await refreshed;
    }
    const records = async (action: string) =>
      (await app.server.app.db('audit_log').where({ meeting_id: meeting.id, staff_id: clinician.id, action })).length;
    await until('the room page recorded', async () => (await records('meeting.room.open')) > 0);
    t.is(await records('meeting.read'), 1, 'one record for one view of the meeting page');
    t.is(await records('meeting.room.open'), 1, 'one record for one view of the meeting room');
    // A reload is a new view: a new record.
    await page.goto(`${app.url}/meetings/${meeting.id}`);
    t.is(await records('meeting.read'), 2);
    await page.browserContext().close();

    // The admin reads the log for this meeting: words, not codes, and picks an event by its words.
    const { staff: admin } = await app.staff('admin', 'Administration');
    const adminPage = await loggedInPage(admin.email);
    await adminPage.goto(`${app.url}/admin/audit`);
    await fill(adminPage, 'Möte (id)', meeting.id);
    await (
      await adminPage.locator('::-p-aria([name="Händelse"][role="combobox"])').waitHandle()
    ).select('meeting.room.open');
    await submit(adminPage, 'Sök i loggen');
    await screenshot(adminPage, 'it-audit');
    const rows = await adminPage.$$eval('table.audit tbody tr', (trs) =>
      trs.map((tr) => (tr.children[3] as HTMLElement).innerText),
    );
    t.deepEqual(rows, ['Öppnade mötesrummet']);
    await adminPage.goto(`${app.url}/admin/audit?meeting=${meeting.id}`);
    const actions = await adminPage.$$eval('table.audit tbody tr', (trs) =>
      trs.map((tr) => (tr.children[3] as HTMLElement).innerText),
    );
    t.true(actions.includes('Bokade mötet') && actions.includes('Öppnade mötet'), actions.join(' | '));
    t.deepEqual(
      actions.filter((a) => /^[a-z]+(\.[a-z_]+)+$/.test(a)),
      [],
      'no raw action names',
    );
    await adminPage.goto(`${app.url}/admin/audit/extract?meeting=${meeting.id}`);
    t.notRegex(await text(adminPage), /\bmeeting\.[a-z.]+/, 'the extract in words too');
    await adminPage.browserContext().close();
  },
);

test.serial('the outbox shows clinic time and headers in whole words', async (t) => {
  const { client } = await loggedIn(app);
  await client.request('POST', '/api/v1/meetings', { json: booking() });
  const { staff } = await app.staff('admin', 'Administration');
  const page = await loggedInPage(staff.email);
  await page.goto(`${app.url}/admin/outbox`);
  await screenshot(page, 'it-outbox');
  const main = await text(page);
  t.notRegex(
    main,
    /GMT|Coordinated Universal Time|\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} \d/,
    'no Date.toString()',
  );
  t.regex(main, /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/);
  // This appliance has a real SMTP server and the embedded SMSC: only the SMS are captured.
  t.regex(main, /Utan SMPP_URL når inget sms en riktig telefon/);
  t.deepEqual(
    await page.$$eval('h3', (hs) => hs.map((h) => h.textContent)),
    ['Sms'],
    'no e-mail section: they went to the real server',
  );
  t.deepEqual(await brokenText(page, 'table thead'), [], 'no header breaks mid-word');
  await page.browserContext().close();
});

test.serial(
  'a new account starts as a clinician in a unit the admin picks; the first password change says every problem, then leads on',
  async (t) => {
    const { staff } = await app.staff('admin', 'Administration');
    await app.staff('clinician', 'Barnmedicin');
    const admin = await loggedInPage(staff.email);
    await admin.goto(`${app.url}/admin/staff`);
    const selected = (label: string) =>
      admin.$eval(
        `::-p-aria([name="${label}"][role="combobox"])`,
        (s) => (s as HTMLSelectElement).selectedOptions[0]?.textContent,
      );
    t.is(await selected('Roll'), 'Vårdpersonal');
    t.is(await selected('Vårdenhet'), 'Välj vårdenhet');
    await type(admin, 'Namn', 'Nils Nyman');
    await type(admin, 'E-postadress', 'nils.nyman@region.example');
    const unitId = present(
      await admin.$$eval('#staff-unit option', (options) =>
        options.find((o) => o.textContent === 'Barnmedicin')?.getAttribute('value'),
      ),
      'the option for Barnmedicin',
    );
    await (await admin.locator('::-p-aria([name="Vårdenhet"][role="combobox"])').waitHandle()).select(unitId);
    await submit(admin, 'Lägg till');
    const oneTime = await text(admin, '[aria-label="Engångslösenord"]');
    await admin.browserContext().close();

    const page = await loggedInPage('nils.nyman@region.example', oneTime);
    t.is(new URL(page.url()).pathname, '/password');
    await fill(page, 'Nuvarande lösenord', 'fel lösenord');
    await fill(page, 'Nytt lösenord', 'kort');
    await fill(page, 'Upprepa det nya lösenordet', 'annat');
    await submit(page, 'Spara lösenordet');
    t.regex(await text(page, '[role="alert"]'), /rätta de 3 saker/);
    for (const label of ['Nuvarande lösenord', 'Nytt lösenord', 'Upprepa det nya lösenordet']) {
      const described = await page.$eval(`::-p-aria([name="${label}"][role="textbox"])`, (el) => [
        el.getAttribute('aria-invalid'),
        document.getElementById(el.getAttribute('aria-describedby') ?? '')?.textContent,
      ]);
      t.is(described[0], 'true', label);
      t.truthy(described[1], label);
    }
    await fill(page, 'Nuvarande lösenord', oneTime);
    await fill(page, 'Nytt lösenord', 'mitt eget långa lösenord');
    await fill(page, 'Upprepa det nya lösenordet', 'mitt eget långa lösenord');
    await submit(page, 'Spara lösenordet');
    t.regex(await text(page, '[role="status"]'), /ditt nya lösenord gäller från och med nu/);
    await Promise.all([page.waitForNavigation(), press(page, 'Fortsätt till Samverka', 'link')]);
    t.is(new URL(page.url()).pathname, '/calendar');
    await page.browserContext().close();
  },
);
