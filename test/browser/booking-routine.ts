// The booking form as the clinic's routine uses it, in Chromium at 1280 px, with a real SMTP relay
// for the invitations: a patient by SMS recorded with a personal number, a meeting without a
// patient, a patient with a proxy (whose field is whose), no BankID without an identity provider,
// the documentation plan asked for early, a reschedule to the same time, and what colleagues and
// e-mail guests are told.
import test from 'ava';
import type { Page } from 'puppeteer-core';
import { addDays, today } from '../../appliance/src/common/clock.ts';
import { byLabel, fill, pick, radio, screenshot, submit, type TestBrowser } from '../helpers/browser.ts';
import type { Relay } from '../helpers/relay.ts';
import type { TestServer } from '../helpers/server.ts';
import { useStage } from '../helpers/stage.ts';
import { until } from '../helpers/wait.ts';
import { present } from '../helpers/present.ts';
import { meetingIdOf } from './_booking.ts';

let app: TestServer;
let relay: Relay;
let chromium: TestBrowser;
useStage({ relay: true, browser: true }, (stage) => ({ app, relay, chromium } = stage));

const text = (page: Page, selector = 'main') => page.$eval(selector, (el) => (el as HTMLElement).innerText);
const choose = async (page: Page, label: string, value: string) => (await byLabel(page, label)).select(value);

/** A clinician at the booking form, in a browser of their own. */
async function bookingForm(): Promise<{ page: Page; staff: Awaited<ReturnType<TestServer['staff']>>['staff'] }> {
  const { staff, password } = await app.staff('clinician');
  const page = await (await chromium.browser.createBrowserContext()).newPage();
  page.setDefaultTimeout(15_000);
  await page.setViewport({ width: 1280, height: 800 });
  await page.goto(`${app.url}/login`);
  await fill(page, 'E-postadress', staff.email);
  await fill(page, 'Lösenord', password);
  await submit(page, 'Logga in');
  await page.goto(`${app.url}/meetings/new`);
  return { page, staff };
}

async function meetingFields(page: Page, title: string) {
  await fill(page, 'Rubrik', title);
  await pick(page, 'Datum', addDays(today(), 2));
  await pick(page, 'Starttid', '10:00');
}

test('a patient invited by SMS is recorded with a personal number, and only the field at fault turns red', async (t) => {
  const { page } = await bookingForm();
  await meetingFields(page, 'Vårdplanering');
  await fill(page, 'Hur dokumenteras mötet under och efter?', 'Journalanteckning');
  await radio(page, 'Patient');
  await fill(page, 'Namn', 'Sara Lind');
  await fill(page, 'Mobilnummer', '070-123 45 67');
  await fill(page, 'Patientens personnummer (krävs vid BankID)', '19121212-1212');
  t.is(
    await (await byLabel(page, 'Mobilnummer')).evaluate((el) => el.getAttribute('aria-invalid')),
    null,
    'the mobile is not marked for a personal number',
  );
  await choose(page, 'Välj identifieringsmetod', 'sms');
  await submit(page, 'Lägg till');
  t.regex(await text(page, '.participant-list'), /Sara Lind Patient\s+070-123 45 67\s+19121212-\*\*\*\*\s+SMS/);
  await screenshot(page, 'booking-form');
  await submit(page, 'Boka mötet');
  t.regex(await text(page, '[role="status"]'), /Mötet är bokat/);
  const id = meetingIdOf(page);
  const meeting = await app.server.plugins.meetings.service.find(id);
  const patient = present(meeting?.participants[0], 'the booked patient');
  t.is(patient.identification, 'sms');
  t.is(patient.personalNumberMasked, '19121212-****');
  await page.browserContext().close();
});

test('a meeting without the patient is booked with the others only', async (t) => {
  const { page } = await bookingForm();
  await meetingFields(page, 'Nätverksmöte utan patient');
  await fill(page, 'Hur dokumenteras mötet under och efter?', 'Minnesanteckningar');
  await radio(page, 'Gäst');
  await fill(page, 'Namn', 'Olle Socialsekreterare');
  await fill(page, 'Mobilnummer', '076-123 45 67');
  await choose(page, 'Välj identifieringsmetod', 'sms');
  await submit(page, 'Lägg till');
  await submit(page, 'Boka mötet');
  t.regex(await text(page, '[role="status"]'), /Mötet är bokat/);
  t.regex(await text(page, 'table.participants'), /Olle Socialsekreterare\s+Gäst/);
  await page.browserContext().close();
});

test('with a proxy each contact field says whose it is; another kind after a refusal starts afresh', async (t) => {
  const { page } = await bookingForm();
  await radio(page, 'Patient med ombud');
  for (const label of [
    'Patientens namn',
    'Patientens mobilnummer',
    'Patientens mejladress',
    'Ombudets namn',
    'Ombudets mobilnummer',
    'Ombudets mejladress',
  ]) {
    t.truthy(await page.$(`::-p-aria([name="${label}"][role="textbox"])`), label);
  }
  t.regex(await text(page, '#add-participant'), /Patienten[\s\S]*Ombudet \(bjuds in och ansluter för patienten\)/);
  // Refused: the proxy has no contact details.
  await fill(page, 'Patientens namn', 'Lilla Lind');
  await fill(page, 'Ombudets namn', 'Anna Lind');
  await submit(page, 'Lägg till');
  t.truthy(await page.$('[role="alert"]'));
  await radio(page, 'Gäst');
  t.is(await page.$('#participant-problem'), null, 'no stale error');
  t.is(await (await byLabel(page, 'Namn')).evaluate((el) => (el as HTMLInputElement).value), '', 'no old name');
  await page.browserContext().close();
});

test('BankID cannot be chosen without an identity provider, and the form says why', async (t) => {
  const { page } = await bookingForm();
  await radio(page, 'Patient');
  const bankid = await page.$eval('#p_identification option[value="bankid"]', (o) => ({
    disabled: o.disabled,
    text: o.textContent,
  }));
  t.deepEqual(bankid, { disabled: true, text: 'BankID (går inte: ingen identitetsleverantör)' });
  t.regex(await text(page, '#idp-note'), /ingen identitetsleverantör är inställd/);
  // Posted anyway (an old page, no script): refused with the reason, nothing added.
  await page.$eval('#p_identification option[value="bankid"]', (o) => {
    o.disabled = false;
  });
  await fill(page, 'Namn', 'Sara Lind');
  await fill(page, 'Mobilnummer', '070-123 45 67');
  await fill(page, 'Patientens personnummer (krävs vid BankID)', '19121212-1212');
  await choose(page, 'Välj identifieringsmetod', 'bankid');
  await submit(page, 'Lägg till');
  t.regex(await text(page, '[role="alert"]'), /BankID går inte att använda: ingen identitetsleverantör är inställd/);
  await page.browserContext().close();
});

test('the documentation plan is asked for as soon as participants are added, not only at "Boka"', async (t) => {
  const { page } = await bookingForm();
  await meetingFields(page, 'Uppföljning');
  await radio(page, 'Gäst');
  await fill(page, 'Namn', 'Eva Ek');
  await fill(page, 'Mejladress', 'eva.ek@skola.example');
  await choose(page, 'Välj identifieringsmetod', 'none');
  await submit(page, 'Lägg till');
  const plan = await byLabel(page, 'Hur dokumenteras mötet under och efter?');
  t.is(await plan.evaluate((el) => el.getAttribute('aria-invalid')), 'true');
  t.regex(await text(page, '#documentation-note'), /Beskriv hur mötet dokumenteras/);
  await fill(page, 'Hur dokumenteras mötet under och efter?', 'Journalanteckning');
  t.is(await text(page, '#documentation-note'), '');
  await page.browserContext().close();
});

test('rescheduling to the same time says nothing changed and tells nobody', async (t) => {
  const { page } = await bookingForm();
  await meetingFields(page, 'Samma tid');
  await fill(page, 'Hur dokumenteras mötet under och efter?', 'Journalanteckning');
  await radio(page, 'Gäst');
  await fill(page, 'Namn', 'Eva Ek');
  await fill(page, 'Mejladress', 'eva.same@skola.example');
  await choose(page, 'Välj identifieringsmetod', 'none');
  await submit(page, 'Lägg till');
  await submit(page, 'Boka mötet');
  const id = meetingIdOf(page);
  await submit(page, 'Flytta mötet');
  t.regex(await text(page, '[role="status"]'), /Mötet har redan den tiden .* Inget ändrades och inget skickades/);
  t.notRegex(await text(page), /Mötet är flyttat/);
  t.deepEqual(
    await app.server.app.db('outbox_messages').where({ meeting_id: id, kind: 'rescheduled' }).select('id'),
    [],
  );
  await page.browserContext().close();
});

test("a colleague's invitation leads to the staff login, and an e-mail guest is not promised a call", async (t) => {
  const { staff: colleague } = await app.staff('clinician', 'Barn- och ungdomsmedicin', { name: 'Kalle Kollega' });
  const { page } = await bookingForm();
  await meetingFields(page, 'Med kollega');
  await fill(page, 'Hur dokumenteras mötet under och efter?', 'Journalanteckning');
  await radio(page, 'Kollega med konto');
  await fill(page, 'Kollegans e-postadress', colleague.email);
  await submit(page, 'Lägg till');
  await radio(page, 'Gäst');
  await fill(page, 'Namn', 'Eva Ek');
  await fill(page, 'Mejladress', 'eva.mail@skola.example');
  await choose(page, 'Välj identifieringsmetod', 'none');
  await submit(page, 'Lägg till');
  await submit(page, 'Boka mötet');
  const mailTo = (address: string) =>
    until(`the invitation to ${address}`, () =>
      relay.received.find((m) => m.to && 'text' in m.to && m.to.text.includes(address)),
    );
  const toColleague = (await mailTo(colleague.email)).text ?? '';
  t.regex(toColleague, /Logga in i Samverka som vanligt och öppna mötet här:\s+http:\/\/\S+\/meetings\/[0-9a-f-]{36}/);
  t.notRegex(toColleague, /skriv ditt namn/);
  const toGuest = (await mailTo('eva.mail@skola.example')).text ?? '';
  t.regex(toGuest, /skriv ditt namn precis som det står/);
  t.notRegex(toGuest, /uppringd/);
  t.regex(toGuest, /Får du tekniska problem under mötet, ring/);
  await page.browserContext().close();
});
