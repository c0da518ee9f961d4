// The staff pages on a phone (375 px): hospital IT and clinicians open them there too. No page may
// scroll sideways as a whole: a wide table scrolls in a box of its own (one a keyboard can reach,
// named after the table), and long addresses, settings and error codes wrap inside the card. In the
// week's calendar a long name stays in its day.
import test from 'ava';
import type { Page } from 'puppeteer-core';
import { brokenText, fill, submit, type TestBrowser } from '../helpers/browser.ts';
import { testPassword, type TestServer } from '../helpers/server.ts';
import { useStage } from '../helpers/stage.ts';
import { booking, loggedIn } from '../meetings/_booking.ts';
import { toClinicTime } from '../../appliance/src/common/clock.ts';

let app: TestServer;
let chromium: TestBrowser;
useStage({ relay: true, smsc: true, browser: true }, (stage) => ({ app, chromium } = stage));

async function loggedInPage(email: string): Promise<Page> {
  const page = await (await chromium.browser.createBrowserContext()).newPage();
  page.setDefaultTimeout(15_000);
  await page.setViewport({ width: 375, height: 720 });
  await page.goto(`${app.url}/login`);
  await fill(page, 'E-postadress', email);
  await fill(page, 'Lösenord', testPassword);
  await submit(page, 'Logga in');
  return page;
}

/** How far the page reaches past the window's right edge, in pixels (0: it does not scroll sideways). */
const sideways = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

/** The named, focusable box each table scrolls in, as a person with a keyboard or screen reader finds it. */
const tableBox = (page: Page, name: string) =>
  page.$(`::-p-aria([name="${name}"][role="region"]) table`).then(async (table) => ({
    found: table !== null,
    focusable: table
      ? await table.evaluate((el) => el.closest('[role="region"]')?.getAttribute('tabindex') === '0')
      : false,
  }));

test('on a phone no admin page scrolls sideways: tables scroll in a named box of their own, long values wrap', async (t) => {
  const { client } = await loggedIn(app, 'admin');
  const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json<{ id: string }>();
  const { staff } = await app.staff('admin', 'Barn- och ungdomsmedicin', {
    email: 'ida.administratorsson@region-vasterbotten.example',
  });
  const page = await loggedInPage(staff.email);
  for (const [path, table] of [
    ['/admin/staff', 'Personalkonton'],
    ['/admin/units', 'Vårdenheter'],
    ['/admin/outbox', 'Meddelanden, senaste först'],
    ['/admin/audit', 'Loggposter, senaste först'],
    ['/admin/status', 'Misslyckade meddelanden senaste dygnet'],
    [`/admin/staff/${staff.id}`, 'Nycklar'],
    [`/connlog/meetings/${meeting.id}`, undefined],
    ['/profile', undefined],
    ['/admin/templates', undefined],
    ['/meetings/00000000-0000-4000-8000-000000000000', undefined],
  ] as const) {
    await page.goto(`${app.url}${path}`);
    t.is(await sideways(page), 0, `${path} scrolls sideways`);
    if (table) t.deepEqual(await tableBox(page, table), { found: true, focusable: true }, path);
  }
  await page.browserContext().close();
});

test('on a phone a setting and its value stand one under the other: only a value longer than the line wraps, no word in letters', async (t) => {
  const { staff } = await app.staff('admin');
  const page = await loggedInPage(staff.email);
  await page.goto(`${app.url}/admin/status`);
  const broken = await brokenText(page, 'main');
  t.deepEqual(
    broken.filter((word) => word.length < 24),
    [],
    `words broken on the status page: ${broken.join(' ')}`,
  );
  await page.browserContext().close();
});

test("on a phone the meeting page's participant table scrolls in its own box, not the page", async (t) => {
  const { client, staff } = await loggedIn(app, 'clinician');
  const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json<{ id: string }>();
  const page = await loggedInPage(staff.email);
  await page.goto(`${app.url}/meetings/${meeting.id}`);
  t.is(await sideways(page), 0);
  t.deepEqual(await tableBox(page, 'Deltagare'), { found: true, focusable: true });
  await page.browserContext().close();
});

test("in the week's calendar a long participant name stays inside its day", async (t) => {
  const { client, staff } = await loggedIn(app, 'clinician');
  const body = booking();
  const meeting = (await client.request('POST', '/api/v1/meetings', { json: body })).json<{ startsAt: string }>();
  const { date } = toClinicTime(new Date(meeting.startsAt));
  const page = await loggedInPage(staff.email);
  await page.setViewport({ width: 1280, height: 800 });
  await page.goto(`${app.url}/calendar?view=week&date=${date}`);
  // Olle Socialsekreterare, a guest of the booking: the longest word of the week.
  const name = await page.locator('::-p-text(Olle Socialsekreterare)').waitHandle();
  const outside = await name.evaluate((el) => {
    const day = el.closest('section')!.getBoundingClientRect();
    const range = document.createRange();
    range.selectNodeContents(el);
    return [...range.getClientRects()].some((r) => r.right > day.right + 0.5);
  });
  t.false(outside);
  await page.browserContext().close();
});
