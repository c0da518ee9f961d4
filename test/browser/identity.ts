// Identity through the hospital's identity provider, in Chromium: a clinician logs in with the SITHS
// button, a patient booked with BankID and a guest booked with SITHS identify on their way in, and a
// wrong person is refused. The provider is oidc-provider on loopback, its login page a plain form.
import test from 'ava';
import type { Page } from 'puppeteer-core';
import { booking, loggedIn } from '../meetings/_booking.ts';
import { fill, launchChromium, press, type TestBrowser } from '../helpers/browser.ts';
import { startIdp, type TestIdp } from '../helpers/idp.ts';
import { startRelay, type Relay } from '../helpers/relay.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { mailedLink } from '../helpers/wait.ts';

let app: TestServer;
let strict: TestServer; // LOCAL_LOGIN=off
let idp: TestIdp;
let strictIdp: TestIdp;
let relay: Relay;
let chromium: TestBrowser;

test.before(async () => {
  [relay, idp, strictIdp, chromium] = await Promise.all([startRelay(), startIdp(), startIdp(), launchChromium()]);
  [app, strict] = await Promise.all([
    startServer({ env: { ...idp.env, SMTP_URL: relay.url, REMINDER_OFFSETS: 'none' } }),
    startServer({ env: { ...strictIdp.env, LOCAL_LOGIN: 'off' } }),
  ]);
  idp.trust(app.url);
  strictIdp.trust(strict.url);
});
test.after.always(async () => {
  await chromium?.close();
  await app?.stop();
  await strict?.stop();
  await idp?.close();
  await strictIdp?.close();
  await relay?.close();
});

/** The provider's login form: who you are, then back to Samverka. */
async function atProvider(page: Page, accountId: string): Promise<void> {
  await page.waitForSelector('::-p-aria(Användar-id)');
  await fill(page, 'Användar-id', accountId);
  await Promise.all([page.waitForNavigation(), press(page, 'Identifiera')]);
}

const mailLink = (email: string) => mailedLink(relay, email);

/** Opens the invitation link in a fresh browser context and types the invited name. */
async function arrive(link: string, name: string): Promise<Page> {
  const context = await chromium.browser.createBrowserContext();
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(link);
  await fill(page, 'Ditt namn', name);
  await Promise.all([page.waitForNavigation(), press(page, 'Fortsätt')]);
  return page;
}

const text = (page: Page) => page.$eval('main', (el) => el.textContent ?? '');

test('a clinician logs in with the SITHS button and lands in the calendar', async (t) => {
  const hsaId = 'SE2321000131-E000000501';
  const { staff } = await app.staff('clinician', 'Barn- och ungdomsmedicin', { name: 'Karin Åberg', hsaId });
  idp.addAccount('karin', { name: staff.name, email: staff.email, hsaId });
  const context = await chromium.browser.createBrowserContext();
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(`${app.url}/`);
  t.is(new URL(page.url()).pathname, '/login');
  await Promise.all([page.waitForNavigation(), press(page, 'Logga in med SITHS-kort', 'link')]);
  t.is(new URL(page.url()).origin, idp.issuer);
  await atProvider(page, 'karin');
  t.is(page.url(), `${app.url}/calendar`);
  t.regex(await page.$eval('header', (el) => el.textContent ?? ''), /Inloggad som Karin Åberg/);
  await context.close();
});

test('an HSA-ID without an account is refused with a page that says so', async (t) => {
  idp.addAccount('okand', { name: 'Okänd Person', hsaId: 'SE2321000131-E000000502' });
  const context = await chromium.browser.createBrowserContext();
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(`${app.url}/login`);
  await Promise.all([page.waitForNavigation(), press(page, 'Logga in med SITHS-kort', 'link')]);
  await atProvider(page, 'okand');
  t.regex(
    await page.$eval('[role="alert"]', (el) => el.textContent ?? ''),
    /Ditt SITHS-kort är inte kopplat till något konto i Samverka/,
  );
  await page.goto(`${app.url}/`);
  t.is(new URL(page.url()).pathname, '/login', 'no session');
  await context.close();
});

test('a patient booked with BankID identifies with the right number and reaches the technical test; the wrong number is refused', async (t) => {
  const { client } = await loggedIn(app);
  const [right, wrong] = ['19121212-1212', '19800314-0002'];
  const [tolvansEmail, falsksEmail] = [`tolvan.${Date.now()}@example.se`, `falsk.${Date.now()}@example.se`];
  for (const email of [tolvansEmail, falsksEmail]) {
    const reply = await client.request('POST', '/api/v1/meetings', {
      json: booking({
        participants: [
          { kind: 'patient', name: 'Tolvan Tolvansson', email, identification: 'bankid', personalNumber: right },
        ],
      }),
    });
    t.is(reply.status, 201);
  }
  // The provider gives the number as twelve digits; the booking had it with a hyphen.
  idp.addAccount('tolvan', { name: 'Tolvan Tolvansson', personalNumber: right.replace('-', '') });
  idp.addAccount('falsk', { name: 'Tolvan Tolvansson', personalNumber: wrong.replace('-', '') });

  const patient = await arrive(await mailLink(tolvansEmail), 'Tolvan Tolvansson');
  t.is(new URL(patient.url()).pathname, '/entry/identify');
  await Promise.all([patient.waitForNavigation(), press(patient, 'Identifiera dig med BankID', 'link')]);
  await atProvider(patient, 'tolvan');
  t.is(new URL(patient.url()).pathname, '/entry/test');
  t.truthy(await patient.locator('::-p-aria([name="Starta testet"][role="button"])').waitHandle());

  const impostor = await arrive(await mailLink(falsksEmail), 'Tolvan Tolvansson');
  await Promise.all([impostor.waitForNavigation(), press(impostor, 'Identifiera dig med BankID', 'link')]);
  await atProvider(impostor, 'falsk');
  t.is(new URL(impostor.url()).pathname, '/entry/identify/callback');
  t.regex(await text(impostor), /Identifieringen stämmer inte med inbjudan/);
  t.regex(await text(impostor), /Kontakta mottagningen/);
  t.notRegex(await text(impostor), /1212|0002/);
  t.is((await impostor.goto(`${app.url}/entry/test`))?.status(), 403, 'no technical test before identification');
});

test('a guest booked with SITHS identifies with their card and reaches the technical test', async (t) => {
  const { client } = await loggedIn(app);
  const email = `kurator.${Date.now()}@example.se`;
  const reply = await client.request('POST', '/api/v1/meetings', {
    json: booking({
      participants: [
        { kind: 'patient', name: 'Sara Lind', mobile: '070-123 45 67', identification: 'sms' },
        { kind: 'guest', name: 'Kurator Kim Ek', email, identification: 'siths' },
      ],
    }),
  });
  t.is(reply.status, 201);
  idp.addAccount('kim', { name: 'Kurator Kim Ek', hsaId: 'SE2321000131-E000000503' });
  const guest = await arrive(await mailLink(email), 'Kurator Kim Ek');
  await Promise.all([guest.waitForNavigation(), press(guest, 'Identifiera dig med SITHS-kort', 'link')]);
  await atProvider(guest, 'kim');
  t.is(new URL(guest.url()).pathname, '/entry/test');
});

test('with LOCAL_LOGIN=off the login page has only the SITHS button', async (t) => {
  const context = await chromium.browser.createBrowserContext();
  const page = await context.newPage();
  await page.goto(`${strict.url}/login`);
  t.truthy(await page.locator('::-p-aria([name="Logga in med SITHS-kort"][role="link"])').waitHandle());
  t.is(await page.$('input[type="password"]'), null);
  t.is(await page.$('form[action="/login"]'), null);
  await context.close();
});
