// The guest's whole way in, in real browsers: the link from a real e-mail (SMTP relay started
// here), the name check, the real technical test against a real coturn with Chromium's fake camera
// and microphone, the waiting room, and the meeting page when the room opens — while a staff
// browser watches the participant's status change live. Jitsi's web client cannot run on these
// machines: as in test/browser/meeting.ts, a stand-in external_api.js is served from another origin.
// Also: axe-core on every guest page (and at 320 px), the Jitsi Meet app offered on a phone, and
// the main path in Firefox ESR.
import test from 'ava';
import type { BrowserContext, Page } from 'puppeteer-core';
import { latestResult } from '../../appliance/src/techtest/store.ts';
import { bookStartingIn } from './_booking.ts';
import { fill, launchFirefox, press, screenshotsAt, type TestBrowser } from '../helpers/browser.ts';
import { startCoturn, type Coturn } from '../helpers/coturn.ts';
import type { Relay } from '../helpers/relay.ts';
import { testPassword, type TestServer } from '../helpers/server.ts';
import { startStage } from '../helpers/stage.ts';
import { delivered, type Arrival, type TestSmsc } from '../helpers/smsc.ts';
import { axe } from '../helpers/axe.ts';
import {
  passTechTest as recordPassedTechTest,
  storedAsPassed,
  walkTechTestSayingYes as passTechTest,
} from '../helpers/techtest.ts';
import { present } from '../helpers/present.ts';
import { until } from '../helpers/wait.ts';

const android =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36';
const iphone =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

/** The guest's parts: relay, an SMSC that confirms delivery, the Jitsi stand-in, coturn for the test. */
const start = (coturn: Coturn) =>
  startStage({
    relay: true,
    smsc: delivered('g'),
    jitsi: true,
    browser: { media: true },
    env: { TURN_URLS: coturn.urls, TURN_SECRET: coturn.secret },
  });
let stage: Awaited<ReturnType<typeof start>> | undefined;
let coturn: Coturn;
let relay: Relay;
let smsc: TestSmsc;
let app: TestServer;
let chromium: TestBrowser;

test.before(async () => {
  coturn = await startCoturn();
  stage = await start(coturn);
  ({ relay, smsc, app, chromium } = stage);
});
test.after.always(async () => {
  await stage?.stop();
  await coturn?.stop();
});

interface Invitee {
  name: string;
  kind?: 'patient' | 'guest';
  identification?: 'none' | 'sms' | 'bankid';
  /** Invited by SMS (the link arrives at the SMSC) rather than by e-mail. */
  bySms?: boolean;
  personalNumber?: string;
}

/** A Swedish mobile number of its own: tests find their messages by recipient. */
const mobileNumber = () => `+4670${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;

const smsText = (a: Arrival) => {
  const sm = a.pdu.short_message as { message?: string } | string;
  return typeof sm === 'string' ? sm : String(sm.message ?? '');
};

/**
 * A clinician books a meeting in ten minutes through the API, with the patient (by SMS) first
 * unless given; every invitee's link is read from what the relay or the SMSC received.
 */
async function book(invitees: Invitee[]) {
  const everyone = invitees.some((p) => p.kind === 'patient')
    ? invitees
    : [{ kind: 'patient' as const, name: 'Sara Lind', identification: 'sms' as const, bySms: true }, ...invitees];
  const people = everyone.map(({ bySms, ...p }) => ({
    kind: 'guest',
    identification: 'none',
    ...p,
    ...(bySms ? { mobile: mobileNumber() } : { email: `${Math.random().toString(36).slice(2)}@skola.example` }),
  }));
  const { staff, meeting } = await bookStartingIn(app, 10, people);
  const linkTo = (p: (typeof people)[number]): string | undefined => {
    if ('email' in p) {
      const mail = relay.received.find((m) => m.to && 'text' in m.to && m.to.text.includes(p.email));
      return /(http:\/\/\S+\/j\/[\w-]+)/.exec(mail?.text ?? '')?.[1];
    }
    const texts = smsc.arrivals
      .filter((a) => a.pdu.destination_addr === p.mobile.replace('+', ''))
      .map(smsText)
      .join('');
    return /(http:\/\/\S+\/j\/[\w-]{24,})/.exec(texts)?.[1];
  };
  const invited: { id: string; link: string }[] = [];
  for (const [i, p] of people.entries()) {
    const deadline = Date.now() + 15_000;
    let link: string | undefined;
    while (!(link = linkTo(p))) {
      if (Date.now() > deadline) throw new Error(`no invitation to ${p.name}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    invited.push({ id: present(meeting.participants[i], `${p.name} in the booked meeting`).id, link });
  }
  const asked = invited.slice(everyone.length - invitees.length);
  return {
    staff,
    meetingId: meeting.id,
    /** The invitees as asked for: participant id and the link that went out. */
    invited: asked,
    invitee: (n: number) => present(asked[n], `invitee ${n + 1}`),
  };
}

const tokenOf = (link: string) => present(link.split('/j/')[1], 'the token in the link');

/** A browser of its own (cookies and all), as each person's device is. */
async function person(browser = chromium, options: { bypassCsp?: boolean; userAgent?: string } = {}): Promise<Page> {
  const context: BrowserContext = await browser.browser.createBrowserContext();
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  // Only for injecting axe-core: the pages' own policy forbids any script they did not ship.
  if (options.bypassCsp) await page.setBypassCSP(true);
  if (options.userAgent) await page.setUserAgent(options.userAgent);
  return page;
}

const visible = (page: Page, selector: string) => page.waitForSelector(selector, { visible: true });

/** Types the name on the link page and sends it. */
async function typeName(page: Page, name: string): Promise<void> {
  await fill(page, 'Ditt namn', name);
  await Promise.all([page.waitForNavigation(), press(page, 'Fortsätt')]);
}

/** axe-core's WCAG 2.1 A/AA and best-practice rules, then the same page at 320 px: no horizontal scrolling. */
async function accessible(page: Page): Promise<{ violations: string[]; reflows: boolean }> {
  const violations = await axe(page);
  const viewport = page.viewport();
  await page.setViewport({ width: 320, height: 640 });
  const reflows = await page.evaluate(() => document.documentElement.scrollWidth <= 320);
  const narrow = (await axe(page)).map((v) => `at 320 px: ${v}`);
  if (viewport) await page.setViewport(viewport);
  return { violations: [...violations, ...narrow], reflows };
}

test.serial(
  'a guest invited by e-mail goes from the link through the name check and the real tech test to the waiting room and the meeting, while staff see each status live',
  async (t) => {
    const { staff, meetingId, invitee } = await book([{ name: 'Lena Lärare' }]);
    const { id: guestId, link } = invitee(0);
    const token = tokenOf(link);
    // The mail is in the guest's inbox; its delivery is recorded a moment later (from the relay's
    // answer), and that is told as a status of its own: the guest's steps come after it.
    await until(
      'the invitation recorded as delivered',
      async () =>
        (await app.server.app.db('participants').where({ id: guestId }).first('status'))?.status === 'delivered',
    );
    const statuses: string[] = [];
    const off = app.server.app.bus.on('participant.status', (e: { participantId: string; status: string }) => {
      if (e.participantId === guestId) statuses.push(e.status);
    });

    // Staff have the meeting page open, logged in through the form by its labels.
    const desk = await person();
    await desk.goto(`${app.url}/login`);
    await fill(desk, 'E-postadress', staff.email);
    await fill(desk, 'Lösenord', testPassword);
    await Promise.all([desk.waitForNavigation(), press(desk, 'Logga in')]);
    await desk.goto(`${app.url}/meetings/${meetingId}`);
    // Every label the guest's status cell shows, in order, however the page updates it.
    // A string, not a function: tsx would name the inner function with a helper the page lacks.
    await desk.evaluate(`(() => {
    const seen = [];
    window.__seen = seen;
    const read = function () {
      const cell = document.querySelector('tr[data-participant-id="${guestId}"] .participant-status');
      const label = cell && cell.firstChild ? cell.firstChild.textContent.trim() : '';
      if (label && seen[seen.length - 1] !== label) seen.push(label);
    };
    read();
    new MutationObserver(read).observe(document.body, { subtree: true, childList: true, characterData: true });
  })()`);
    const seen = () => desk.evaluate(() => (window as unknown as { __seen: string[] }).__seen);
    const staffSees = (label: string) =>
      desk.waitForFunction(
        (l: string) => (window as unknown as { __seen: string[] }).__seen.includes(l),
        { timeout: 15_000 },
        label,
      );

    const page = await person();
    const requested: string[] = [];
    // Every request the guest's browser makes: pages, redirects, assets, the event stream, fetches.
    page.on('request', (r) => requested.push(`${r.method()} ${r.url()}`));
    await page.goto(link);
    // The link page replaces its address at once: the token stays out of the history.
    await page.waitForFunction(() => location.pathname === '/j');
    t.is(await page.title(), 'Anslut till mötet – Samverka');
    await screenshotsAt(page, 'guest-link');

    await typeName(page, 'Lena Larare');
    t.regex(await page.$eval('[role="alert"]', (el) => el.textContent ?? ''), /^Namnet stämmer inte med inbjudan/);
    t.false((await page.content()).includes('Lena Lärare'), 'the invited name is not revealed');
    t.is(new URL(page.url()).pathname, '/j');

    await typeName(page, 'Lena Lärare');
    const afterPost = requested.findIndex((r) => r.startsWith('POST')) + 1;
    t.is(new URL(page.url()).pathname, '/entry/test');
    // The test page came as the name's answer; a reload asks for the page and never sends the name again.
    const reloaded = await page.reload();
    t.is(reloaded?.request().method(), 'GET');
    t.is(new URL(page.url()).pathname, '/entry/test');
    await staffSees('Identifierad');

    await passTechTest(page);
    t.is(await page.$eval('#techtest', (el) => (el as HTMLElement).dataset.done), 'saved');
    await screenshotsAt(page, 'guest-techtest-done');
    await staffSees('Tekniktest klart');
    storedAsPassed(t, await latestResult(app.server.app.db, { type: 'participant', id: guestId }));

    await Promise.all([page.waitForNavigation(), press(page, 'Fortsätt', 'link')]);
    t.is(new URL(page.url()).pathname, '/entry/waiting');
    t.is(await page.title(), 'Väntrummet – Samverka');
    await staffSees('Väntar');
    // 'opened' and 'identified' happen in the same moment for a guest with no identification: the
    // page may show only the later one, but both were told.
    t.deepEqual(statuses.slice(0, 2), ['opened', 'identified']);
    const order = (await seen()).filter((l) =>
      ['Har öppnat länken', 'Identifierad', 'Tekniktest klart', 'Väntar'].includes(l),
    );
    t.deepEqual(
      order.filter((l) => l !== 'Har öppnat länken'),
      ['Identifierad', 'Tekniktest klart', 'Väntar'],
      (await seen()).join(' → '),
    );

    // The room opens (the schedule's tick): the waiting room moves on by itself.
    await app.server.plugins.rooms.service.tick();
    await page.waitForFunction(() => location.pathname === '/entry/meeting', { timeout: 15_000 });
    await page.waitForFunction(() => '__jitsi' in window);
    t.is(await page.$('a[href^="org.jitsi.meet:"], a[href^="intent:"]'), null, 'no app link on a computer');

    for (const url of [...requested.slice(afterPost), page.url()]) t.false(url.includes(token), `no token in ${url}`);
    t.true(requested.length > afterPost + 3, requested.join('\n'));
    t.false(app.logs().includes(token), 'no token in the logs');
    off();
    await Promise.all([page.browserContext().close(), desk.browserContext().close()]);
  },
);

test.serial(
  'every guest page passes axe-core with no violations, also at 320 px with no horizontal scrolling',
  async (t) => {
    const { invitee } = await book([
      { kind: 'patient', name: 'Sara Lind', identification: 'bankid', personalNumber: '19121212-1212' },
      { name: 'Lena Lärare' },
      { name: 'Olle Socialsekreterare', identification: 'sms', bySms: true },
      { name: 'Nils Nilsson' },
    ]);
    const [patientLink, guestLink, smsLink, lockLink] = [
      invitee(0).link,
      invitee(1).link,
      invitee(2).link,
      invitee(3).link,
    ];
    const check = async (page: Page, what: string) => {
      const { violations, reflows } = await accessible(page);
      t.deepEqual(violations, [], what);
      t.true(reflows, `${what}: no horizontal scrolling at 320 px`);
    };

    const guest = await person(chromium, { bypassCsp: true });
    await guest.goto(guestLink);
    await check(guest, 'link page');
    await typeName(guest, 'Lena Larare');
    await check(guest, 'link page with the wrong-name error');
    await typeName(guest, 'Lena Lärare');
    // The tech test's own pages are checked in test/browser/techtest.ts: here it is recorded as passed.
    await recordPassedTechTest(app, { type: 'participant', id: invitee(1).id });
    await guest.goto(`${app.url}/entry/waiting`);
    await check(guest, 'waiting room');
    await app.server.plugins.rooms.service.tick();
    await guest.waitForFunction(() => location.pathname === '/entry/meeting', { timeout: 15_000 });
    await guest.waitForFunction(() => '__jitsi' in window);
    await check(guest, 'meeting page');

    const sms = await person(chromium, { bypassCsp: true });
    await sms.goto(smsLink);
    await typeName(sms, 'Olle Socialsekreterare');
    t.is(new URL(sms.url()).pathname, '/entry/code');
    await check(sms, 'code page');

    const patient = await person(chromium, { bypassCsp: true });
    await patient.goto(patientLink);
    await typeName(patient, 'Sara Lind');
    t.is(new URL(patient.url()).pathname, '/entry/identify');
    await check(patient, 'identify page (no identity provider configured)');
    await screenshotsAt(patient, 'guest-identify');

    const other = await person(chromium, { bypassCsp: true });
    await other.goto(guestLink);
    t.is(await other.title(), 'Länken har redan använts – Samverka');
    await check(other, 'used link');
    await screenshotsAt(other, 'guest-used-link');
    await other.goto(`${app.url}/j/${'A'.repeat(32)}`);
    t.is(await other.title(), 'Länken fungerar inte – Samverka');
    await check(other, 'unknown link');
    await other.goto(lockLink);
    for (let i = 0; i < 5; i++) await typeName(other, `Nils Fel ${i}`);
    t.is(await other.title(), 'Länken är spärrad – Samverka');
    await check(other, 'locked link');

    await Promise.all([guest, sms, patient, other].map((p) => p.browserContext().close()));
  },
);

test.serial(
  'on a phone the meeting page offers the Jitsi Meet app, with the room and the token, or the browser',
  async (t) => {
    const { invited, invitee } = await book([{ name: 'Lena Lärare' }, { name: 'Nils Nilsson' }]);
    for (const { id } of invited) await recordPassedTechTest(app, { type: 'participant', id });
    await app.server.plugins.rooms.service.tick();
    const roomOf = async () =>
      (
        await app.server.app
          .db('rooms')
          .whereIn(
            'meeting_id',
            app.server.app
              .db('participants')
              .select('meeting_id')
              .where({ id: invitee(0).id }),
          )
          .first()
      ).name as string;

    const phone = await person(chromium, { bypassCsp: true, userAgent: iphone });
    await phone.goto(invitee(0).link);
    await typeName(phone, 'Lena Lärare');
    await phone.goto(`${app.url}/entry/meeting`);
    const appLink = await phone.locator('::-p-aria([name="Öppna mötet i appen Jitsi Meet"][role="link"])').waitHandle();
    const href = await appLink.evaluate((a) => (a as HTMLAnchorElement).href);
    const [, , room, jwt] = /^org\.jitsi\.meet:\/\/([^/]+)\/([^?]+)\?jwt=(.+)$/.exec(href) ?? [];
    t.is(room, await roomOf(), href);
    t.is(present(jwt, `a token in ${href}`).split('.').length, 3, 'a JWT');
    t.false(await phone.evaluate(() => 'JitsiMeetExternalAPI' in window), 'Jitsi does not start before the choice');
    const { violations, reflows } = await accessible(phone);
    t.deepEqual(violations, []);
    t.true(reflows);
    await Promise.all([phone.waitForNavigation(), press(phone, 'Fortsätt i webbläsaren', 'link')]);
    await phone.waitForFunction(() => '__jitsi' in window);
    t.is(
      await phone.evaluate(
        () => (window as unknown as { __jitsi: { options: { roomName: string } } }).__jitsi.options.roomName,
      ),
      await roomOf(),
    );

    // Android: an intent link naming the app, as Jitsi's own web client makes it.
    const other = await person(chromium, { userAgent: android });
    await other.goto(invitee(1).link);
    await typeName(other, 'Nils Nilsson');
    await other.goto(`${app.url}/entry/meeting`);
    const intent = await other.$eval('a.button', (a) => a.getAttribute('href') ?? '');
    t.regex(
      intent,
      /^intent:\/\/[^/]+\/[^?]+\?jwt=[\w.-]+#Intent;scheme=org\.jitsi\.meet;package=org\.jitsi\.meet;end$/,
    );
    await Promise.all([phone.browserContext().close(), other.browserContext().close()]);
  },
);

test.serial('the main path runs in Firefox ESR: link, name, the real tech test, the waiting room', async (t) => {
  const { invitee } = await book([{ name: 'Lena Lärare' }]);
  const { id, link } = invitee(0);
  const firefox = await launchFirefox();
  try {
    const page = await person(firefox);
    await page.goto(link);
    await page.waitForFunction(() => location.pathname === '/j');
    await typeName(page, 'Lena Larare');
    t.regex(await page.$eval('[role="alert"]', (el) => el.textContent ?? ''), /^Namnet stämmer inte/);
    await typeName(page, 'Lena Lärare');
    t.is(new URL(page.url()).pathname, '/entry/test');
    await passTechTest(page);
    await Promise.all([page.waitForNavigation(), press(page, 'Fortsätt', 'link')]);
    t.is(new URL(page.url()).pathname, '/entry/waiting');
    const stored = present(await latestResult(app.server.app.db, { type: 'participant', id }), 'the stored result');
    t.like(stored, { camera: 'yes', microphone: 'detected', sound: 'yes' });
    t.regex(stored.browser, /^Firefox \d+$/);
    t.like(stored.network, { relayConfigured: true, relayUdp: true, relayTcp: true });
    t.false(app.logs().includes(tokenOf(link)));
  } finally {
    await firefox.close();
  }
});

test.serial(
  'in Firefox ESR with a sound system that never starts, the microphone and sound steps offer a way out and the guest reaches the waiting room',
  async (t) => {
    const { invitee } = await book([{ name: 'Lena Lärare' }]);
    const { id, link } = invitee(0);
    // No sound device, as on the machine where this was seen: the AudioContext stays "suspended".
    const firefox = await launchFirefox({ sound: false });
    try {
      const page = await person(firefox);
      await page.goto(link);
      await typeName(page, 'Lena Lärare');
      t.is(new URL(page.url()).pathname, '/entry/test');
      await page.waitForSelector('#techtest[data-ready="true"]');
      await press(page, 'Starta testet');
      await page.waitForFunction(() => (document.querySelector<HTMLVideoElement>('#preview')?.videoWidth ?? 0) > 0);
      await press(page, 'Ja');
      // The microphone never gives a level: the page says so, with "Try again" and "Continue anyway".
      await visible(page, '#step-microphone .help');
      t.is(
        await page.$eval('#microphone-silent', (el) => el.textContent),
        'Webbläsaren startar inte ljudet, så vi kan inte höra mikrofonen.',
      );
      t.is(await page.$eval('.progress [data-step="microphone"] .state', (el) => el.textContent), 'Problem');
      await press(page, 'Försök igen');
      await visible(page, '#step-microphone .help');
      await press(page, 'Fortsätt ändå');
      // The chime cannot play either: no "did you hear it?", the way out at once.
      await visible(page, '#step-sound');
      await press(page, 'Spela upp ljudet');
      await visible(page, '#step-sound .help');
      t.regex(await page.$eval('#sound-help', (el) => el.textContent ?? ''), /^Webbläsaren startar inte ljudet/);
      await press(page, 'Fortsätt ändå');
      await page.waitForSelector('#techtest[data-done]', { timeout: 30_000 });
      await Promise.all([page.waitForNavigation(), press(page, 'Fortsätt', 'link')]);
      t.is(new URL(page.url()).pathname, '/entry/waiting');
      t.is(await page.title(), 'Väntrummet – Samverka');
      const stored = present(await latestResult(app.server.app.db, { type: 'participant', id }), 'the stored result');
      t.like(stored, { camera: 'yes', microphone: 'silent', sound: 'no' });
      t.regex(stored.browser, /^Firefox \d+$/);
    } finally {
      await firefox.close();
    }
  },
);
