// The technical test in Chromium with a fake camera and microphone, against a real coturn started
// here: a clinician passes camera, microphone, sound and connection; the result is stored with
// figures; wrong TURN credentials fail the relay within the page's own timeout; axe finds nothing.
import test from 'ava';
import type { Browser, Page } from 'puppeteer-core';
import { latestResult } from '../../appliance/src/techtest/store.ts';
import type { Subject } from '../../appliance/src/techtest/model.ts';
import { fill, launchChromium, launchFirefox, press, type TestBrowser } from '../helpers/browser.ts';
import { startCoturn, type Coturn } from '../helpers/coturn.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { axe } from '../helpers/axe.ts';
import { storedAsPassed, walkTechTestSayingYes } from '../helpers/techtest.ts';
import { present } from '../helpers/present.ts';

/** The page's own limit for Jitsi's pre-call test (its own is 30 s). */
const precallTimeoutMs = 10_000;

let coturn: Coturn;
let app: TestServer;
let wrongSecret: TestServer;
let chromium: TestBrowser;

test.before(async () => {
  coturn = await startCoturn();
  [app, wrongSecret, chromium] = await Promise.all([
    startServer({ env: { TURN_URLS: coturn.urls, TURN_SECRET: coturn.secret } }),
    startServer({ env: { TURN_URLS: coturn.urls, TURN_SECRET: `${coturn.secret}-fel` } }),
    launchChromium({ media: true }),
  ]);
});
test.after.always(async () => {
  await chromium?.close();
  await Promise.all([app?.stop(), wrongSecret?.stop()]);
  await coturn?.stop();
});

/** Opens the tech test as a clinician would: the page sends them to log in, then back. */
async function openAsClinician(
  server: TestServer,
  options: { bypassCsp?: boolean; browser?: Browser } = {},
): Promise<{ page: Page; subject: () => Promise<Subject> }> {
  const { staff, password } = await server.staff('clinician');
  const context = await (options.browser ?? chromium.browser).createBrowserContext();
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  // Only for injecting axe-core: the page's own policy forbids any script it did not ship.
  if (options.bypassCsp) await page.setBypassCSP(true);
  await page.goto(`${server.url}/techtest`);
  await fill(page, 'E-postadress', staff.email);
  await fill(page, 'Lösenord', password);
  await Promise.all([page.waitForNavigation(), press(page, 'Logga in')]);
  await page.waitForSelector('#techtest[data-ready="true"]');
  return {
    page,
    async subject() {
      const session = await server.server.app.db('staff_sessions').where({ staff_id: staff.id }).first();
      return { type: 'staff_session', id: session.id };
    },
  };
}

const visible = (page: Page, selector: string) => page.waitForSelector(selector, { visible: true });
const stepState = (page: Page, step: string) =>
  page.$eval(`.progress [data-step="${step}"] .state`, (el) => el.textContent);
/** Waits until the live region has said something matching `text`. */
const announced = (page: Page, text: RegExp) =>
  page.waitForFunction(
    (source: string) => new RegExp(source).test(document.querySelector('[aria-live]')?.textContent ?? ''),
    {},
    text.source,
  );

test.serial(
  'a clinician passes camera, microphone, sound and connection, and the result is stored with figures',
  async (t) => {
    const { page, subject } = await openAsClinician(app);
    const cspViolations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    t.is(await page.title(), 'Tekniskt test – Samverka');

    await press(page, 'Starta testet');
    await visible(page, '#step-camera');
    await announced(page, /Steg 1 av 4: Kamera/);
    // The fake camera gives moving frames: the preview shows a picture.
    await page.waitForFunction(() => (document.querySelector('#preview') as HTMLVideoElement).videoWidth > 0);
    t.is(await page.$eval('#camera-question', (el) => el.textContent), 'Ser du dig själv i bilden?');
    await press(page, 'Ja');

    // The microphone passes by itself when it hears sound at speech level: no question asked.
    await visible(page, '#step-microphone');
    await page.waitForFunction(
      () => document.querySelector('.progress [data-step="microphone"] .state')?.textContent === 'Fungerar',
    );
    t.true(await page.$eval('#level', (el) => (el as HTMLMeterElement).value > 0));

    await visible(page, '#step-sound');
    await press(page, 'Spela upp ljudet');
    await visible(page, '#sound-question');
    await press(page, 'Ja');

    await visible(page, '#step-network');
    await page.waitForSelector('#techtest[data-done]', { timeout: 30_000 });
    t.is(await page.$eval('#techtest', (el) => (el as HTMLElement).dataset.done), 'saved');
    const verdict = await page.$eval('#verdict', (el) => el.textContent);
    // Each verdict says, in a patient's words, whether the meeting works, may be choppy or will not
    // work, and what to do about the latter two.
    t.regex(
      verdict ?? '',
      /^(Det fungerar: din anslutning räcker för videomötet\.|Det kan hacka: mötet fungerar, men bild och ljud kan bli ryckiga\.)$/,
    );
    if (/^Det kan hacka/.test(verdict ?? ''))
      t.is(await page.$eval('#advice-title', (el) => el.textContent), 'Gör så här för att förbättra det:');
    await announced(page, /Resultatet är sparat/);
    const figures = await page.$$eval('#figures tr', (rows) => rows.map((r) => r.textContent));
    t.true(
      figures.some((f) => /^Bild och ljud\s*Fungerar$/.test(f ?? '')),
      figures.join(' | '),
    );
    t.true(
      figures.some((f) => /^Bild och ljud, reservvägen\s*Fungerar$/.test(f ?? '')),
      figures.join(' | '),
    );
    // No protocol or configuration names on a patient's screen.
    t.notRegex(await page.$eval('#step-network', (el) => (el as HTMLElement).innerText), /TURN|UDP|TCP|server|jitter/i);
    for (const name of ['camera', 'microphone', 'sound']) t.is(await stepState(page, name), 'Fungerar', name);

    const stored = storedAsPassed(t, await latestResult(app.server.app.db, await subject()));
    t.truthy(stored.devices.camera, 'the camera label is kept');
    t.regex(stored.browser, /^Chrome \d+$/);
    t.is(stored.os, 'Linux');
    t.not(stored.verdict, 'failed');
    t.deepEqual(cspViolations, []);
    await page.browserContext().close();
  },
);

test.serial(
  'wrong TURN credentials give a "failed" verdict within the page\'s own timeout; "Nej" offers help and continuing',
  async (t) => {
    const { page, subject } = await openAsClinician(wrongSecret);
    await press(page, 'Starta testet');
    await page.waitForFunction(() => (document.querySelector('#preview') as HTMLVideoElement).videoWidth > 0);
    await press(page, 'Nej');
    await visible(page, '#step-camera .help');
    await announced(page, /Kontrollera att kameran är ansluten/);
    await press(page, 'Försök igen');
    await page.waitForFunction(() => (document.querySelector('#preview') as HTMLVideoElement).videoWidth > 0);
    await press(page, 'Nej');
    await press(page, 'Fortsätt ändå');
    t.is(await stepState(page, 'camera'), 'Problem');

    await visible(page, '#step-sound');
    await press(page, 'Spela upp ljudet');
    await press(page, 'Nej');
    await visible(page, '#step-sound .help');
    await press(page, 'Fortsätt ändå');

    await page.waitForSelector('#techtest[data-done]', { timeout: precallTimeoutMs + 15_000 });
    t.is(await page.$eval('#techtest', (el) => (el as HTMLElement).dataset.verdict), 'failed');
    t.is(
      await page.$eval('#verdict', (el) => el.textContent),
      'Det fungerar inte: din anslutning räcker inte för videomötet just nu.',
    );
    const advice = await page.$eval('#advice', (el) => (el as HTMLElement).innerText);
    t.regex(advice, /^Gör så här, och gör sedan om testet:/);
    t.is(await stepState(page, 'network'), 'Fungerar inte');
    t.notRegex(await page.$eval('#step-network', (el) => (el as HTMLElement).innerText), /TURN|UDP|TCP|server|jitter/i);
    t.regex(advice, /Starta om/);
    t.regex(advice, /stäng av wifi/);
    const stored = present(await latestResult(wrongSecret.server.app.db, await subject()), 'the stored result');
    t.like(stored, { camera: 'no', microphone: 'detected', sound: 'no', verdict: 'failed' });
    t.like(stored.network, { relayConfigured: true, relayUdp: false, relayTcp: false, rttMs: null });
    const { durationMs } = stored.network;
    t.true(present(durationMs, 'the duration') < precallTimeoutMs, `the relay failed in ${durationMs} ms`);
    t.regex(coturn.output(), /check_stun_auth: Cannot find credentials of user/, 'coturn refused the credentials');
    await page.browserContext().close();
  },
);

test.serial(
  'a TURN server offered only over TCP: UDP is skipped, not counted as blocked, and the relay over TCP is measured',
  async (t) => {
    const tcpOnly = await startServer({
      env: { TURN_URLS: `turn:127.0.0.1:${coturn.port}?transport=tcp`, TURN_SECRET: coturn.secret },
    });
    try {
      const { page, subject } = await openAsClinician(tcpOnly);
      await walkTechTestSayingYes(page);
      await page.waitForSelector('#techtest[data-done]', { timeout: 30_000 });
      const figures = await page.$$eval('#figures tr', (rows) => rows.map((r) => r.textContent));
      t.true(
        figures.some((f) => /^Bild och ljud\s*Testas inte här$/.test(f ?? '')),
        figures.join(' | '),
      );
      const stored = present(await latestResult(tcpOnly.server.app.db, await subject()), 'the stored result');
      t.like(stored.network, { relayConfigured: true, relayUdp: null, relayTcp: true });
      t.not(stored.verdict, 'failed');
      await page.browserContext().close();
    } finally {
      await tcpOnly.stop();
    }
  },
);

test.serial('every step of the page passes axe-core with no violations', async (t) => {
  const { page } = await openAsClinician(app, { bypassCsp: true });
  t.deepEqual(await axe(page), [], 'start');
  await press(page, 'Starta testet');
  await page.waitForFunction(() => (document.querySelector('#preview') as HTMLVideoElement).videoWidth > 0);
  t.deepEqual(await axe(page), [], 'camera');
  await press(page, 'Nej');
  t.deepEqual(await axe(page), [], 'camera help');
  await press(page, 'Fortsätt ändå');
  await visible(page, '#step-microphone');
  t.deepEqual(await axe(page), [], 'microphone');
  await visible(page, '#step-sound');
  t.deepEqual(await axe(page), [], 'sound');
  await press(page, 'Spela upp ljudet');
  await press(page, 'Ja');
  await page.waitForSelector('#techtest[data-done]', { timeout: 30_000 });
  t.deepEqual(await axe(page), [], 'result');
  // Reflow at 320 px: nothing wider than the screen.
  await page.setViewport({ width: 320, height: 640 });
  t.true(await page.evaluate(() => document.documentElement.scrollWidth <= 320), 'no horizontal scrolling at 320 px');
  await page.browserContext().close();
});

test.serial('the same test passes in Firefox ESR, with the relay and figures measured', async (t) => {
  const firefox = await launchFirefox();
  try {
    const { page, subject } = await openAsClinician(app, { browser: firefox.browser });
    await walkTechTestSayingYes(page);
    const stored = present(await latestResult(app.server.app.db, await subject()), 'the stored result');
    t.like(stored, { camera: 'yes', microphone: 'detected', sound: 'yes' });
    t.regex(stored.browser, /^Firefox \d+$/);
    t.like(stored.network, { relayConfigured: true, relayUdp: true, relayTcp: true });
    for (const figure of ['rttMs', 'jitterMs', 'loss', 'throughputKbps', 'downloadKbps', 'uploadKbps'] as const) {
      t.is(typeof stored.network[figure], 'number', figure);
    }
  } finally {
    await firefox.close();
  }
});
