// A mistyped mobile number corrected on the meeting page, in Chromium: the form found by its labels,
// a refusal told as the page tells every refused change, and the new invitation at the real SMSC.
import test from 'ava';
import type { Page } from 'puppeteer-core';
import { byLabel, fill, press, submit, type TestBrowser } from '../helpers/browser.ts';
import { testPassword, type TestServer } from '../helpers/server.ts';
import type { TestSmsc } from '../helpers/smsc.ts';
import { useStage } from '../helpers/stage.ts';
import { until } from '../helpers/wait.ts';
import { bookStartingIn } from './_booking.ts';

let app: TestServer;
let smsc: TestSmsc;
let chromium: TestBrowser;
useStage({ relay: true, smsc: true, browser: true }, (stage) => ({ app, smsc, chromium } = stage));

async function loggedInPage(email: string): Promise<Page> {
  const page = await (await chromium.browser.createBrowserContext()).newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(`${app.url}/login`);
  await fill(page, 'E-postadress', email);
  await fill(page, 'Lösenord', testPassword);
  await submit(page, 'Logga in');
  return page;
}

const valueOf = async (page: Page, label: string) =>
  (await byLabel(page, label)).evaluate((el) => (el as HTMLInputElement).value);

/** The SMS texts that reached `number` (E.164 without the plus) at the SMSC. */
const textsTo = (number: string) =>
  smsc.arrivals
    .filter((a) => String(a.pdu.destination_addr) === number)
    .map((a) => {
      const sm = a.pdu.short_message as { message?: string | Buffer } | string | Buffer;
      const message = typeof sm === 'object' && !Buffer.isBuffer(sm) ? sm.message : sm;
      return Buffer.isBuffer(message) ? message.toString('utf8') : String(message ?? '');
    })
    .join('');

test('a guest’s mistyped mobile number is corrected on the meeting page: the page shows the new number and the new invitation, which reaches it', async (t) => {
  const { staff, meeting } = await bookStartingIn(app, 24 * 60, [
    { kind: 'patient', name: 'Sara Lind', mobile: '070-123 45 67', identification: 'sms' },
    { kind: 'guest', name: 'Olle Socialsekreterare', mobile: '076-999 99 99', identification: 'sms' },
  ]);
  const page = await loggedInPage(staff.email);
  await page.goto(`${app.url}/meetings/${meeting.id}`);
  t.is(await valueOf(page, 'Mobilnummer för Olle Socialsekreterare'), '076-999 99 99');
  t.is(await valueOf(page, 'E-post för Olle Socialsekreterare'), '');

  // A number that is not one: told as every refused change on the page is, and nothing changes.
  await fill(page, 'Mobilnummer för Olle Socialsekreterare', '076-12');
  await submit(page, 'Spara kontaktuppgifter för Olle Socialsekreterare');
  t.regex(await page.$eval('[role="alert"]', (el) => el.textContent ?? ''), /076-12 är inte ett giltigt telefonnummer/);
  t.regex(await page.$eval('table.participants', (el) => (el as HTMLElement).innerText), /076-999 99 99/);
  // What was typed stays, the field marked and described by the reason (for a screen reader too).
  const marked = await (
    await byLabel(page, 'Mobilnummer för Olle Socialsekreterare')
  ).evaluate((el) => ({
    value: (el as HTMLInputElement).value,
    invalid: el.getAttribute('aria-invalid'),
    description: document.getElementById(el.getAttribute('aria-describedby') ?? '')?.textContent ?? '',
  }));
  t.like(marked, { value: '076-12', invalid: 'true' });
  t.regex(marked.description, /076-12 är inte ett giltigt telefonnummer i Sverige/);

  await fill(page, 'Mobilnummer för Olle Socialsekreterare', '076-111 22 33');
  await submit(page, 'Spara kontaktuppgifter för Olle Socialsekreterare');
  t.regex(
    await page.$eval('[role="status"]', (el) => el.textContent ?? ''),
    /Kontaktuppgifterna är ändrade och en ny inbjudan skickas/,
  );
  const table = await page.$eval('table.participants', (el) => (el as HTMLElement).innerText);
  t.regex(table, /076-111 22 33/);
  t.notRegex(table, /076-999 99 99/);
  t.is(await valueOf(page, 'Mobilnummer för Olle Socialsekreterare'), '076-111 22 33');
  await until('the new invitation at the corrected number', () => /\/j\//.test(textsTo('46761112233')) || undefined);
  await page.browserContext().close();
});

test('the form speaks English to an English-speaking clinician, and the same number again changes nothing and says nothing', async (t) => {
  const { staff, meeting } = await bookStartingIn(app, 24 * 60, [
    { kind: 'patient', name: 'Sara Lind', mobile: '070-123 45 67', identification: 'sms' },
  ]);
  const page = await loggedInPage(staff.email);
  await page.goto(`${app.url}/meetings/${meeting.id}`);
  await Promise.all([page.waitForNavigation(), press(page, 'In English', 'link')]);
  await fill(page, 'Mobile number of Sara Lind', '+46701234567');
  await submit(page, 'Save contact details for Sara Lind');
  t.is(await page.$('[role="status"]'), null, 'no notice');
  t.is(await valueOf(page, 'Mobile number of Sara Lind'), '070-123 45 67');
  const after = await app.server.plugins.meetings.service.find(meeting.id);
  t.is(after?.version, 1);
  await page.browserContext().close();
});
