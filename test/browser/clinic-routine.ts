// The clinician's routine as a person at a Swedish clinic walks it, in Chromium at 1280 px: what a
// refused booking or reschedule tells them, which field it marks (for a screen reader too), and
// that what they typed stays.
import test from 'ava';
import type { Page } from 'puppeteer-core';
import { addDays, toClinicTime, today } from '../../appliance/src/common/clock.ts';
import { byLabel, fill, pick, press, radio, submit, type TestBrowser } from '../helpers/browser.ts';
import { testPassword, type TestServer } from '../helpers/server.ts';
import type { Relay } from '../helpers/relay.ts';
import { useStage } from '../helpers/stage.ts';
import { mailedLink } from '../helpers/wait.ts';
import { bookStartingIn } from './_booking.ts';

let app: TestServer;
let relay: Relay;
let chromium: TestBrowser;
useStage({ relay: true, browser: true }, (stage) => ({ app, relay, chromium } = stage));

/** What a screen reader says of a field besides its name: whether it is invalid, and its description. */
async function announced(page: Page, label: string) {
  return (await byLabel(page, label)).evaluate((el) => ({
    invalid: el.getAttribute('aria-invalid') === 'true',
    description: (el.getAttribute('aria-describedby') ?? '')
      .split(/\s+/)
      .map((id) => document.getElementById(id)?.textContent?.trim() ?? '')
      .filter(Boolean)
      .join(' '),
    value: (el as HTMLInputElement).value,
  }));
}

async function loggedInPage(email: string): Promise<Page> {
  const page = await (await chromium.browser.createBrowserContext()).newPage();
  page.setDefaultTimeout(15_000);
  await page.setViewport({ width: 1280, height: 800 });
  await page.goto(`${app.url}/login`);
  await fill(page, 'E-postadress', email);
  await fill(page, 'Lösenord', testPassword);
  await submit(page, 'Logga in');
  return page;
}

/** The clinician's meeting tomorrow with the patient, open in their browser. */
async function meetingOpen() {
  const { staff, meeting, client, startsAt } = await bookStartingIn(app, 24 * 60, [
    { kind: 'patient', name: 'Sara Lind', mobile: '070-123 45 67', identification: 'sms' },
  ]);
  const page = await loggedInPage(staff.email);
  await page.goto(`${app.url}/meetings/${meeting.id}`);
  // Someone else moves it an hour on (a colleague, the same clinician in another tab): the time
  // it is moved to, as the page shows it.
  const movedByAnother = async () => {
    const moved = new Date(startsAt.getTime() + 3600_000);
    const reply = await client.request('PATCH', `/api/v1/meetings/${meeting.id}`, {
      json: { version: 1, startsAt: moved.toISOString() },
    });
    if (reply.status !== 200) throw new Error(`reschedule: ${reply.status} ${reply.text}`);
    return toClinicTime(moved).time;
  };
  return { page, meeting, movedByAnother };
}

/** Waits until the meeting page's live part shows `time` (its event stream brought the change). */
const showsLive = (page: Page, time: string) =>
  page.waitForFunction((time) => document.getElementById('meeting-live')?.innerText.includes(`kl. ${time}`), {}, time);

test('a booking refused for its title marks the title field, described by the message', async (t) => {
  const { staff } = await app.staff('clinician');
  const page = await loggedInPage(staff.email);
  await page.goto(`${app.url}/meetings/new`);
  await pick(page, 'Datum', addDays(today(), 2));
  await pick(page, 'Starttid', '10:00');
  await fill(page, 'Hur dokumenteras mötet under och efter?', 'Journalanteckning');
  await radio(page, 'Gäst');
  await fill(page, 'Namn', 'Eva Ek');
  await fill(page, 'Mejladress', 'eva.ek@skola.example');
  await (await byLabel(page, 'Välj identifieringsmetod')).select('none');
  await submit(page, 'Boka mötet');
  t.deepEqual(await announced(page, 'Rubrik'), { invalid: true, description: 'Skriv en rubrik för mötet.', value: '' });
  t.false((await announced(page, 'Datum')).invalid, 'only the field at fault');
  t.is((await announced(page, 'Hur dokumenteras mötet under och efter?')).value, 'Journalanteckning');
  await page.browserContext().close();
});

test('a guest chosen after the patient starts with no identification, so a school invited by e-mail is added', async (t) => {
  const { staff } = await app.staff('clinician');
  const page = await loggedInPage(staff.email);
  await page.goto(`${app.url}/meetings/new`);
  await radio(page, 'Gäst');
  t.is(
    await (await byLabel(page, 'Välj identifieringsmetod')).evaluate((el) => (el as HTMLSelectElement).value),
    'none',
  );
  await fill(page, 'Namn', 'Eva Ek');
  await fill(page, 'Mejladress', 'eva.ek@skola.example');
  await submit(page, 'Lägg till');
  t.is(await page.$('[role="alert"]'), null);
  t.regex(await page.$eval('.participant-list', (el) => (el as HTMLElement).innerText), /Eva Ek Gäst/);
  // And back to the patient: SMS again, as the form first offered.
  await radio(page, 'Patient');
  t.is(
    await (await byLabel(page, 'Välj identifieringsmetod')).evaluate((el) => (el as HTMLSelectElement).value),
    'sms',
  );
  await page.browserContext().close();
});

test('a refused participant field is described by the message, the proxy’s fields and the personal number too', async (t) => {
  const { staff } = await app.staff('clinician');
  const page = await loggedInPage(staff.email);
  await page.goto(`${app.url}/meetings/new`);
  await radio(page, 'Patient med ombud');
  await fill(page, 'Patientens namn', 'Lilla Lind');
  await fill(page, 'Patientens personnummer (krävs vid BankID)', '20150101-1234');
  await fill(page, 'Ombudets namn', 'Anna Lind');
  await fill(page, 'Ombudets mobilnummer', '070-123 45 67');
  await submit(page, 'Lägg till');
  const pn = await announced(page, 'Patientens personnummer (krävs vid BankID)');
  t.true(pn.invalid);
  t.regex(pn.description, /Personnumret för Lilla Lind stämmer inte/);
  t.is(pn.value, '20150101-1234', 'what was typed stays');

  await fill(page, 'Patientens personnummer (krävs vid BankID)', '19121212-1212');
  await fill(page, 'Ombudets mobilnummer', '070-12');
  await submit(page, 'Lägg till');
  const mobile = await announced(page, 'Ombudets mobilnummer');
  t.true(mobile.invalid);
  t.regex(mobile.description, /070-12 är inte ett giltigt telefonnummer i Sverige/);
  await page.browserContext().close();
});

test('a move to a time already past is refused before the confirmation, and the form keeps what was typed', async (t) => {
  const { page } = await meetingOpen();
  const yesterday = addDays(today(), -1);
  await pick(page, 'Nytt datum', yesterday);
  await pick(page, 'Ny starttid', '09:15');
  await submit(page, 'Flytta mötet');
  t.is(await page.$('::-p-aria(Ja, flytta mötet)'), null, 'not asked to confirm a time that cannot be');
  t.regex(await page.$eval('[role="alert"]', (el) => el.textContent ?? ''), /bakåt i tiden/);
  const date = await announced(page, 'Nytt datum');
  t.deepEqual(date, { invalid: true, description: date.description, value: yesterday });
  t.regex(date.description, /bakåt i tiden/);
  t.is((await announced(page, 'Ny starttid')).value, '09:15');
  await page.browserContext().close();
});

test('a reschedule refused for its duration keeps the new date and time typed', async (t) => {
  const { page } = await meetingOpen();
  const later = addDays(today(), 5);
  await pick(page, 'Nytt datum', later);
  await pick(page, 'Ny starttid', '13:45');
  // A browser that does not hold to the field's max (or a typed 600).
  await (await byLabel(page, 'Längd i minuter')).evaluate((el) => el.removeAttribute('max'));
  await pick(page, 'Längd i minuter', '600');
  await submit(page, 'Flytta mötet');
  t.is((await announced(page, 'Nytt datum')).value, later);
  t.is((await announced(page, 'Ny starttid')).value, '13:45');
  const duration = await announced(page, 'Längd i minuter');
  t.true(duration.invalid);
  t.is(duration.value, '600');
  t.regex(duration.description, /Längd i minuter/);
  await page.browserContext().close();
});

test('every column of the participant table has a header with a name, the actions column too', async (t) => {
  const { page, meeting } = await meetingOpen();
  for (const [lang, actions] of [
    ['sv', 'Åtgärder'],
    ['en', 'Actions'],
  ] as const) {
    await page.goto(`${app.url}/lang/${lang}?next=${encodeURIComponent(`/meetings/${meeting.id}`)}`);
    const headers = await page.$$eval('table.participants thead th', (ths) =>
      ths.map((th) => (th as HTMLElement).textContent?.trim() ?? ''),
    );
    t.is(headers.at(-1), actions, lang);
    t.false(
      headers.some((h) => h === '' || h === '…'),
      headers.join(' | '),
    );
  }
  await page.browserContext().close();
});

test('switching to English on a confirmation comes back to the meeting, not to "Sidan finns inte"', async (t) => {
  const { page, meeting } = await meetingOpen();
  await fill(page, 'Orsak (skickas till alla deltagare)', 'Patienten är sjuk');
  await submit(page, 'Ställ in mötet');
  t.truthy(await page.$('::-p-aria([name="Ja, ställ in mötet"][role="button"])'), 'asked to confirm');
  const [english] = await Promise.all([page.waitForNavigation(), press(page, 'In English', 'link')]);
  t.is(english?.status(), 200);
  t.is(new URL(page.url()).pathname, `/meetings/${meeting.id}`);
  t.truthy(await page.$('::-p-aria([name="Cancel the meeting"][role="heading"])'));
  t.is(await page.$eval('dd.meeting-status', (el) => el.textContent), 'booked', 'nothing was cancelled on the way');
  const [swedish] = await Promise.all([page.waitForNavigation(), press(page, 'På svenska', 'link')]);
  t.is(swedish?.status(), 200);
  t.truthy(await page.$('::-p-aria([name="Ställ in mötet"][role="heading"])'));
  await page.browserContext().close();
});

test('after a refused move the page still follows the meeting live', async (t) => {
  const { page, movedByAnother } = await meetingOpen();
  await page.waitForSelector('.live-note:not([hidden])');
  await pick(page, 'Nytt datum', addDays(today(), -1));
  await submit(page, 'Flytta mötet');
  t.truthy(await page.$('[role="alert"]'), 'refused');
  await page.waitForSelector('.live-note:not([hidden])');
  const time = await movedByAnother();
  await showsLive(page, time);
  t.pass();
  await page.browserContext().close();
});

test('a live update keeps the keyboard on the control it was on', async (t) => {
  const { page, movedByAnother } = await meetingOpen();
  await page.waitForSelector('.live-note:not([hidden])');
  const resend = await page
    .locator('::-p-aria([name="Skicka inbjudan igen till Sara Lind"][role="button"])')
    .waitHandle();
  await resend.focus();
  const time = await movedByAnother();
  await showsLive(page, time);
  t.is(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Skicka inbjudan igen till Sara Lind');
  t.true(await page.evaluate(() => document.getElementById('meeting-live')!.contains(document.activeElement)));
  await page.browserContext().close();
});

const textbox = (page: Page, name: string) => page.locator(`::-p-aria([name="${name}"][role="textbox"])`).waitHandle();

test('a school is added to a booked meeting from its page, and is invited', async (t) => {
  const { page, meeting } = await meetingOpen();
  await radio(page, 'Gäst');
  t.is(
    await (await byLabel(page, 'Välj identifieringsmetod')).evaluate((el) => (el as HTMLSelectElement).value),
    'none',
  );
  const email = `rektor.${meeting.id.slice(0, 8)}@skola.example`;
  await (await textbox(page, 'Namn')).type('Rektor Berit');
  await (await textbox(page, 'Mejladress')).type(email);
  await submit(page, 'Lägg till');
  t.regex(await page.$eval('[role="status"]', (el) => el.textContent ?? ''), /Deltagaren är tillagd och inbjuden/);
  t.regex(await page.$eval('table.participants', (el) => (el as HTMLElement).innerText), /Rektor Berit\s+Gäst/);
  t.regex(await mailedLink(relay, email), /\/j\//);
  await page.browserContext().close();
});

test('a participant refused on the meeting page keeps what was typed, the field marked with the reason', async (t) => {
  const { page } = await meetingOpen();
  await radio(page, 'Gäst');
  await (await textbox(page, 'Namn')).type('Olle Socialsekreterare');
  await (await textbox(page, 'Mobilnummer')).type('070-12');
  await (await byLabel(page, 'Välj identifieringsmetod')).select('sms');
  await submit(page, 'Lägg till');
  const mobile = await (
    await textbox(page, 'Mobilnummer')
  ).evaluate((el) => ({
    value: (el as HTMLInputElement).value,
    invalid: el.getAttribute('aria-invalid'),
    description: (el.getAttribute('aria-describedby') ?? '')
      .split(' ')
      .map((id) => document.getElementById(id)?.textContent ?? '')
      .join(' '),
  }));
  t.is(mobile.value, '070-12');
  t.is(mobile.invalid, 'true');
  t.regex(mobile.description, /070-12 är inte ett giltigt telefonnummer i Sverige/);
  t.is(await (await textbox(page, 'Namn')).evaluate((el) => (el as HTMLInputElement).value), 'Olle Socialsekreterare');
  t.true(await page.$eval('#kind-guest', (el) => (el as HTMLInputElement).checked), 'still a guest');
  await page.browserContext().close();
});

test('the list before booking shows mobile numbers as the meeting page will, however they were typed', async (t) => {
  const { staff } = await app.staff('clinician');
  const page = await loggedInPage(staff.email);
  await page.goto(`${app.url}/meetings/new`);
  await radio(page, 'Patient med ombud');
  await fill(page, 'Patientens namn', 'Lilla Lind');
  await fill(page, 'Ombudets namn', 'Anna Lind');
  await fill(page, 'Ombudets mobilnummer', '0701234567');
  await submit(page, 'Lägg till');
  await radio(page, 'Gäst');
  await fill(page, 'Namn', 'Olle Mentor');
  await fill(page, 'Mobilnummer', '+46731112233');
  await (await byLabel(page, 'Välj identifieringsmetod')).select('sms');
  await submit(page, 'Lägg till');
  const list = await page.$eval('.participant-list', (el) => (el as HTMLElement).innerText);
  t.regex(list, /Ombud: Anna Lind, 070-123 45 67/);
  t.regex(list, /Olle Mentor Gäst 073-111 22 33/);
  await page.browserContext().close();
});

test('a move refused because someone else changed the meeting keeps the new time, and pressing again moves it', async (t) => {
  const { page, movedByAnother } = await meetingOpen();
  const later = addDays(today(), 6);
  await pick(page, 'Nytt datum', later);
  await pick(page, 'Ny starttid', '11:30');
  await movedByAnother();
  await submit(page, 'Flytta mötet');
  await submit(page, 'Ja, flytta mötet');
  const alert = await page.$eval('[role="alert"]', (el) => el.textContent ?? '');
  t.regex(alert, /Någon annan har ändrat mötet/);
  t.notRegex(alert, /Ladda om/, 'not told to reload, which would lose what was typed');
  t.is((await announced(page, 'Nytt datum')).value, later);
  t.is((await announced(page, 'Ny starttid')).value, '11:30');
  await submit(page, 'Flytta mötet');
  await submit(page, 'Ja, flytta mötet');
  t.regex(await page.$eval('[role="status"]', (el) => el.textContent ?? ''), /flyttat/i);
  t.regex(await page.$eval('#meeting-live', (el) => (el as HTMLElement).innerText), /kl\. 11:30/);
  await page.browserContext().close();
});

test('a start time left empty is asked for in plain Swedish and English, and the field is marked', async (t) => {
  const { staff } = await app.staff('clinician');
  const page = await loggedInPage(staff.email);
  for (const [lang, book, label, message] of [
    ['sv', 'Boka mötet', 'Starttid', 'Starttid måste fyllas i.'],
    ['en', 'Book the meeting', 'Start time', 'Start time must be filled in.'],
  ] as const) {
    await page.goto(`${app.url}/lang/${lang}?next=/meetings/new`);
    await pick(page, label, '');
    await submit(page, book);
    // The form says everything wrong at once, a line each: the start time first (the rest of the
    // form is empty too).
    const problems = (await page.$eval('#problem', (el) => (el as HTMLElement).innerText)).split('\n');
    t.is(problems[0], message);
    t.true((await announced(page, label)).invalid, lang);
  }
  await page.browserContext().close();
});
