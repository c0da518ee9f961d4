// What a participant reads on each page of the way in, in Chromium: the language of their booking
// from the link's first page (the switch still there), the SMS code's countdown, the link to copy
// when the browser will not do, a meeting that has ended, no configuration words when the video
// cannot start, and the evaluation at 320 px. The appliance runs without Jitsi and TURN, as a
// fresh installation does. Every page is also photographed at 375 and 320 px (screenshots/guest-*).
import test from 'ava';
import { useStage } from '../helpers/stage.ts';
import type { Page } from 'puppeteer-core';
import { bookStartingIn } from './_booking.ts';
import { byLabel, fill, press, screenshotsAt, type TestBrowser } from '../helpers/browser.ts';
import { mailsTo, smsTo, worldParts, until, type World } from '../connlog/_meeting.ts';
import { passTechTest } from '../helpers/techtest.ts';
import { present } from '../helpers/present.ts';
import { formatWhen } from '../../appliance/src/common/clock.ts';

const safariMac =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15';

let world: World;
let chromium: TestBrowser;
useStage({ ...worldParts, browser: true }, (stage) => {
  world = stage;
  chromium = stage.chromium;
});

interface Invitee {
  name: string;
  language?: 'sv' | 'en';
  /** By SMS with an SMS code, rather than by e-mail with no identification. */
  bySms?: boolean;
}

/**
 * A clinician books a meeting (the patient by SMS first, then the invitees) starting in `minutes`;
 * each invitee's link is read from the mail or SMS that really went out.
 */
async function book(invitees: Invitee[], minutes = 2 * 24 * 60) {
  const people = invitees.map(({ bySms, ...p }) => ({
    kind: 'guest',
    ...p,
    ...(bySms
      ? { identification: 'sms', mobile: `070${Math.floor(1_000_000 + Math.random() * 8_999_999)}` }
      : { identification: 'none', email: `${Math.random().toString(36).slice(2)}@skola.example` }),
  }));
  const patient = {
    kind: 'patient',
    name: 'Sara Lind',
    mobile: `070${Math.floor(1_000_000 + Math.random() * 8_999_999)}`,
    identification: 'sms',
  };
  const { meeting, client } = await bookStartingIn(world.app, minutes, [patient, ...people]);
  const invited: { id: string; email: string | null; link: string }[] = [];
  for (const p of meeting.participants.slice(1)) {
    const text = () =>
      p.email
        ? mailsTo(world, p.email)
            .map((m) => m.text ?? '')
            .join('')
        : smsTo(world, present(p.mobile, `the mobile of ${p.id}`)).join('');
    const link = await until(
      `the invitation to ${p.email ?? p.mobile}`,
      () => /http:\/\/\S+\/j\/[\w-]{24,}/.exec(text())?.[0],
    );
    invited.push({ id: p.id, email: p.email, link });
  }
  return {
    meetingId: meeting.id,
    /** The clinician who booked it, logged in to the API. */
    clinician: client,
    /** The `n`-th invitee (from 0) as booked: participant id, e-mail, and the link that went out. */
    invitee: (n: number) => present(invited[n], `invitee ${n + 1}`),
  };
}

/** A browser of its own (cookies and all), as each person's device is. */
async function person(userAgent?: string): Promise<Page> {
  const page = await (await chromium.browser.createBrowserContext()).newPage();
  page.setDefaultTimeout(20_000);
  if (userAgent) await page.setUserAgent(userAgent);
  return page;
}

async function typeName(page: Page, label: string, button: string, name: string): Promise<void> {
  await fill(page, label, name);
  await Promise.all([page.waitForNavigation(), press(page, button)]);
}

const textOf = (page: Page, selector = 'main') => page.$eval(selector, (el) => (el as HTMLElement).innerText);

/** The technical test is driven in techtest.ts and guest.ts: here it is recorded as passed. */
const passed = (participantId: string) => passTechTest(world.app, { type: 'participant', id: participantId });

test.serial(
  'a guest booked in English reads English from the link on: the name check, a wrong name, a locked link, the test, the waiting room; the switch still works',
  async (t) => {
    const { invitee } = await book([
      { name: 'Eva Ek', language: 'en' },
      { name: 'Nils Nilsson', language: 'en' },
    ]);
    const [evasLink, nilssLink] = [invitee(0).link, invitee(1).link];

    const eva = await person();
    await eva.goto(evasLink);
    t.is(await eva.title(), 'Join the meeting – Samverka');
    t.is(await eva.$eval('html', (el) => el.lang), 'en');
    await screenshotsAt(eva, 'guest-link-en');
    await typeName(eva, 'Your name', 'Continue', 'Eva Eek');
    t.regex(
      await textOf(eva, '[role="alert"]'),
      /^The name does not match the invitation\. Check the spelling\. You have 4 tries left\./,
    );
    await screenshotsAt(eva, 'guest-link-wrong-name-en');
    // The switch is still there, and still keeps the token out of every address.
    await Promise.all([eva.waitForNavigation(), press(eva, 'På svenska')]);
    t.is(await eva.title(), 'Anslut till mötet – Samverka');
    t.is(new URL(eva.url()).pathname, '/j');
    await Promise.all([eva.waitForNavigation(), press(eva, 'In English')]);
    await typeName(eva, 'Your name', 'Continue', 'Eva Ek');
    t.is(new URL(eva.url()).pathname, '/entry/test');
    t.is(await eva.title(), 'Technical test – Samverka');

    const nils = await person();
    await nils.goto(nilssLink);
    for (let i = 0; i < 5; i++) await typeName(nils, 'Your name', 'Continue', `Nils Fel ${i}`);
    t.is(await nils.title(), 'The link is locked – Samverka');
    t.regex(await textOf(nils, '[role="alert"]'), /typed wrongly too many times/);
    await screenshotsAt(nils, 'guest-locked-en');
    // Opening the locked link again, in a fresh browser, still speaks the booking's language.
    const again = await person();
    await again.goto(nilssLink);
    t.is(await again.title(), 'The link is locked – Samverka');
    await Promise.all([eva, nils, again].map((p) => p.browserContext().close()));
  },
);

test.serial(
  'a guest booked in English gets the evaluation request and its form in English, and the scale stays on one line at 320 px',
  async (t) => {
    const { meetingId, invitee } = await book([{ name: 'Eva Ek', language: 'en' }]);
    const { id, email, link: invitation } = invitee(0);
    const eva = await person();
    await eva.goto(invitation);
    await typeName(eva, 'Your name', 'Continue', 'Eva Ek');
    await eva.browserContext().close();
    await passed(id);
    await world.app.server.plugins.rooms.service.end(meetingId, 'Mötet är slut.', null);
    const mail = await until('the evaluation request', () =>
      mailsTo(world, present(email, "Eva's e-mail")).find((m) => /\/e\//.test(m.text ?? '')),
    );
    const link = present(/(http:\/\/\S+\/e\/[\w-]+)/.exec(mail.text ?? '')?.[1], 'the link in the request');

    // Read later, on another device: the link alone says whose form it is.
    const form = await person();
    await form.goto(link);
    t.is(await form.title(), 'How did the meeting work? – Samverka');
    await form.setViewport({ width: 320, height: 640 });
    const group = await form.locator('::-p-aria([name="How did sound and picture work?"][role="group"])').waitHandle();
    const rows = await group.$$eval('input[type="radio"]', (radios) =>
      radios.map((r) => Math.round(r.closest('label')!.getBoundingClientRect().top)),
    );
    t.is(rows.length, 5);
    t.is(new Set(rows).size, 1, `the five choices on one line at 320 px: ${rows.join(', ')}`);
    t.true(await form.evaluate(() => document.documentElement.scrollWidth <= 320), 'no horizontal scrolling');
    await screenshotsAt(form, 'guest-evaluation-en');
    const radio = await group.$('::-p-aria([name="4"][role="radio"])');
    await present(radio, 'the choice 4').click();
    await Promise.all([form.waitForNavigation(), press(form, 'Send the answers')]);
    t.regex(await textOf(form), /Thank you for your answers/);
    // Opened again (the mail found a week later): it says so in her language, with no form to answer again.
    t.is((await form.goto(link))?.status(), 409);
    t.is(await form.title(), 'You have already answered – Samverka');
    t.is(await form.$('input[type="radio"]'), null, 'no form to answer again');
    await form.browserContext().close();
  },
);

test.serial('the SMS code page says the first code is sent, and counts down to the next with the number', async (t) => {
  const { invitee } = await book([{ name: 'Olle Socialsekreterare', bySms: true }]);
  const olle = await person();
  await olle.goto(invitee(0).link);
  await typeName(olle, 'Ditt namn', 'Fortsätt', 'Olle Socialsekreterare');
  t.is(new URL(olle.url()).pathname, '/entry/code');
  t.is((await textOf(olle, '[role="status"]')).trim(), 'Koden är skickad.');
  await olle.waitForFunction(() => /\d/.test(document.querySelector('[data-countdown-text]')?.textContent ?? ''));
  t.regex(await textOf(olle, '[data-countdown-text]'), /^Du kan be om en ny kod om \d{1,2} sekunder\.$/);
  t.true(
    await olle.$eval('::-p-aria([name="Skicka en ny kod"][role="button"])', (b) => (b as HTMLButtonElement).disabled),
  );
  await screenshotsAt(olle, 'guest-code');
  await olle.browserContext().close();
});

/** Whether the field is focused and marked invalid, and what its description says (the error first). */
async function fieldState(page: Page, label: string) {
  return (await byLabel(page, label)).evaluate((el) => ({
    focused: el === document.activeElement,
    invalid: el.getAttribute('aria-invalid'),
    description: (el.getAttribute('aria-describedby') ?? '')
      .split(' ')
      .map((id) => document.getElementById(id)?.textContent?.trim())
      .join(' '),
  }));
}

test.serial('a wrong name or code puts the person back in the field, which says what was wrong', async (t) => {
  const { invitee } = await book([{ name: 'Olle Socialsekreterare', bySms: true }]);
  const olle = await person();
  await olle.goto(invitee(0).link);
  t.like(await fieldState(olle, 'Ditt namn'), { focused: false, invalid: null });
  await typeName(olle, 'Ditt namn', 'Fortsätt', 'Olle Socialsekretare');
  // A screen reader (or a phone's keyboard) is where the correction is typed, and hears why.
  t.deepEqual(await fieldState(olle, 'Ditt namn'), {
    focused: true,
    invalid: 'true',
    description:
      'Namnet stämmer inte med inbjudan. Kontrollera stavningen. Du har 4 försök kvar. Skriv ditt för- och efternamn precis som det står i inbjudan.',
  });
  await typeName(olle, 'Ditt namn', 'Fortsätt', 'Olle Socialsekreterare');
  t.is(new URL(olle.url()).pathname, '/entry/code');
  t.like(await fieldState(olle, 'Kod från sms'), { invalid: null });
  await fill(olle, 'Kod från sms', '000000');
  await Promise.all([olle.waitForNavigation(), press(olle, 'Fortsätt')]);
  t.deepEqual(await fieldState(olle, 'Kod från sms'), {
    focused: true,
    invalid: 'true',
    description: 'Fel kod. Du har 4 försök kvar.',
  });
  await olle.browserContext().close();
});

test.serial(
  'the invitation e-mail reads on a phone at 320 px: the link wraps rather than running off the side',
  async (t) => {
    const { invitee } = await book([{ name: 'Eva Ek' }]);
    const mail = present(
      mailsTo(world, present(invitee(0).email, "Eva's e-mail")).find((m) => /\/j\//.test(m.text ?? '')),
      'the invitation',
    );
    const eva = await person();
    await eva.setViewport({ width: 320, height: 640 });
    await eva.setContent(String(mail.html));
    // (A token with a "-" in it gives the browser a place to break anyway; most have none.)
    t.true(await eva.evaluate(() => document.documentElement.scrollWidth <= 320), 'no sideways scrolling');
    // Still one link to tap, whole, and the clinic's number on one line.
    t.is(await eva.$eval('a[href*="/j/"]', (a) => a.textContent), invitee(0).link);
    t.true(await eva.$$eval('a[href^="tel:"]', (links) => links.every((a) => a.getClientRects().length === 1)));
    await eva.browserContext().close();
  },
);

test.serial('a person whose SMS code does not come can reach the clinic from the code page, with a tap', async (t) => {
  const { invitee } = await book([{ name: 'Olle Socialsekreterare', bySms: true }]);
  const olle = await person();
  await olle.goto(invitee(0).link);
  await typeName(olle, 'Ditt namn', 'Fortsätt', 'Olle Socialsekreterare');
  t.is(new URL(olle.url()).pathname, '/entry/code');
  // Not only once every code is used up: a code that never arrives (an old number) is a dead end too.
  t.regex(await textOf(olle), /Kommer det inget sms\? Ring Barn- och ungdomsmedicin på 010-123 45 67\./);
  t.is(await olle.$eval('main a[href^="tel:"]', (a) => a.getAttribute('href')), 'tel:0101234567');
  await olle.browserContext().close();
});

test.serial(
  'Safari on a computer: the page says which browsers work and offers the link to copy into one',
  async (t) => {
    const { invitee } = await book([{ name: 'Eva Ek' }]);
    const { link } = invitee(0);
    const safari = await person(safariMac);
    await safari
      .browserContext()
      .overridePermissions(world.app.url, ['clipboard-read', 'clipboard-write', 'clipboard-sanitized-write']);
    await safari.goto(link);
    t.is(await safari.title(), 'Byt webbläsare – Samverka');
    await safari.waitForFunction(() => location.pathname === '/j');
    const field = await safari.locator('::-p-aria([name="Länken till mötet"][role="textbox"])').waitHandle();
    t.is(await field.evaluate((el) => (el as HTMLInputElement).value), link);
    await press(safari, 'Kopiera länken');
    await safari.waitForFunction(() => (document.querySelector('[role="status"]')?.textContent ?? '') !== '');
    t.regex(await textOf(safari, '[role="status"]'), /^Länken är kopierad\./);
    t.is(await safari.evaluate(() => navigator.clipboard.readText()), link);
    await screenshotsAt(safari, 'guest-browser');
    t.false(
      world.app.logs().includes(present(link.split('/j/')[1], 'the token in the link')),
      'the token reaches no log line',
    );
    // Opening the link there did not spend it: Chrome gets the name form.
    const chrome = await person();
    await chrome.goto(link);
    t.is(await chrome.title(), 'Anslut till mötet – Samverka');
    await Promise.all([safari, chrome].map((p) => p.browserContext().close()));
  },
);

test.serial(
  'without a video server the participant reads what to do, not configuration names; once the meeting has ended, no page says the room is open, also after a reload',
  async (t) => {
    const { meetingId, invitee } = await book([{ name: 'Eva Ek' }], 5);
    const eva = await person();
    await eva.goto(invitee(0).link);
    await typeName(eva, 'Ditt namn', 'Fortsätt', 'Eva Ek');
    await passed(invitee(0).id);
    await eva.goto(`${world.app.url}/entry/waiting`);
    // The room is open (it opens 15 minutes before the start): the waiting room moves on by itself.
    await eva.waitForFunction(() => location.pathname === '/entry/meeting', { timeout: 15_000 });
    // The address changes as the page begins to load: its words are read once they are there.
    await eva.locator('main ::-p-text(Videon kan inte starta just nu)').waitHandle();
    const words = await textOf(eva);
    t.regex(words, /Videon kan inte starta just nu/);
    t.regex(words, /Ring mottagningen på 010-123 45 67/);
    t.notRegex(words, /JITSI|videoserver|inställd/i);
    await screenshotsAt(eva, 'guest-meeting-no-video');

    await world.app.server.plugins.rooms.service.end(meetingId, 'Mötet har avslutats av personalen.', null);
    // The page learns it at once and moves on to the page that says so.
    await eva.waitForFunction(() => location.pathname === '/entry/waiting');
    await eva.reload();
    t.is(new URL(eva.url()).pathname, '/entry/waiting');
    t.is(await eva.title(), 'Mötet är avslutat – Samverka');
    const ended = await textOf(eva);
    t.regex(ended, /Mötet är avslutat och mötesrummet är stängt\./);
    t.notRegex(ended, /är öppet/);
    await screenshotsAt(eva, 'guest-ended');
    await eva.reload();
    t.notRegex(await textOf(eva), /är öppet/);
    await eva.goto(`${world.app.url}/entry`);
    t.is(new URL(eva.url()).pathname, '/entry/waiting');
    // What is left to do: the evaluation.
    await Promise.all([eva.waitForNavigation(), press(eva, 'Utvärdera mötet', 'link')]);
    t.is(await eva.title(), 'Hur fungerade mötet? – Samverka');
    await eva.browserContext().close();
  },
);

test.serial(
  'a meeting ended while the guest waits: the waiting room says so at once, with no countdown and no room',
  async (t) => {
    const { meetingId, invitee } = await book([{ name: 'Eva Ek' }]);
    const eva = await person();
    await eva.goto(invitee(0).link);
    await typeName(eva, 'Ditt namn', 'Fortsätt', 'Eva Ek');
    await passed(invitee(0).id);
    await eva.goto(`${world.app.url}/entry/waiting`);
    t.is(await eva.title(), 'Väntrummet – Samverka');
    // Two days ahead: the opening time in words and that the page may be closed, no 47-hour countdown.
    const words = await textOf(eva);
    t.regex(words, /Mötesrummet öppnar kl\.\s\d\d:\d\d, en stund före mötet\./);
    t.regex(words, /kan du stänga sidan och en stund före mötet öppna länken i inbjudan igen/);
    t.notRegex(words, /Tid kvar/);
    // Eva was invited by e-mail alone: nobody can call her back, so she is told to call the clinic.
    t.regex(words, /Om tekniken krånglar under mötet, ring mottagningen på 010-123 45 67\./);
    t.notRegex(words, /blir du uppringd/);
    // The clinic's number: one tap to call, and never broken across lines, even at 320 px.
    await eva.setViewport({ width: 320, height: 640 });
    // The phone links she sees (the one for after the meeting waits hidden until it has ended).
    const phones = await eva.$$eval('main a', (links) =>
      links
        .filter((a) => a.getAttribute('href')?.startsWith('tel:') && a.checkVisibility())
        .map((a) => ({ href: a.getAttribute('href'), text: a.textContent, lines: a.getClientRects().length })),
    );
    t.deepEqual(phones, [{ href: 'tel:0101234567', text: '010-123 45 67', lines: 1 }]);
    await screenshotsAt(eva, 'guest-waiting');
    await world.app.server.plugins.rooms.service.end(meetingId, 'Mötet har ställts in.', null);
    await eva.waitForFunction(() => !(document.querySelector('[data-room-ended]') as HTMLElement).hidden);
    t.regex(await textOf(eva, '[role="status"]'), /Mötet är avslutat/);
    t.true(await eva.$eval('[data-room-closed]', (el) => (el as HTMLElement).hidden), 'no countdown');
    t.true(await eva.$eval('[data-room-open]', (el) => (el as HTMLElement).hidden), 'no room');
    // Nothing left of the waiting: no "wait on this page", no test to take again, and the clinic's
    // number is for questions about the meeting, not for technical problems during it.
    const after = await textOf(eva);
    t.notRegex(after, /Vad händer nu|Vänta kvar|Gör om det tekniska testet|gick bra|krånglar under mötet/);
    t.regex(after, /Utvärdera mötet/);
    t.regex(after, /Frågor om mötet\? Ring mottagningen på 010-123 45 67\./);
    await eva.browserContext().close();
  },
);

test.serial(
  'a meeting moved while the guest waits: the waiting room shows the new time and says the time has changed',
  async (t) => {
    const { meetingId, clinician, invitee } = await book([{ name: 'Eva Ek' }]);
    const eva = await person();
    await eva.goto(invitee(0).link);
    await typeName(eva, 'Ditt namn', 'Fortsätt', 'Eva Ek');
    await passed(invitee(0).id);
    await eva.goto(`${world.app.url}/entry/waiting`);
    t.notRegex(await textOf(eva), /ny tid/);
    const startsAt = new Date(Date.now() + 5 * 86_400_000);
    startsAt.setUTCHours(9, 0, 0, 0);
    const { version } = (await clinician.get(`/api/v1/meetings/${meetingId}`)).json<{ version: number }>();
    const moved = await clinician.request('PATCH', `/api/v1/meetings/${meetingId}`, {
      json: { version, startsAt: startsAt.toISOString() },
    });
    t.is(moved.status, 200, moved.text);
    // The page reloads by itself with the new time, and says why the time on it is not the one she knew.
    await eva.waitForFunction(() => /ny tid/.test(document.querySelector('main')?.textContent ?? ''));
    t.regex(await textOf(eva, '[role="status"]'), /^Mötet har fått en ny tid\.$/);
    t.regex(await textOf(eva), new RegExp(formatWhen(startsAt, 'sv').date));
    // Only this once: the address keeps no flag that a later reload would show again.
    t.is(new URL(eva.url()).search, '');
    await eva.reload();
    t.notRegex(await textOf(eva), /ny tid/);
    await eva.browserContext().close();
  },
);

test.serial('within the last hour before the room opens, the waiting room counts down to it', async (t) => {
  const { invitee } = await book([{ name: 'Eva Ek' }], 40);
  const eva = await person();
  await eva.goto(invitee(0).link);
  await typeName(eva, 'Ditt namn', 'Fortsätt', 'Eva Ek');
  await passed(invitee(0).id);
  await eva.goto(`${world.app.url}/entry/waiting`);
  await eva.waitForFunction(() => /\d\d:\d\d/.test(document.querySelector('[data-countdown]')?.textContent ?? ''));
  t.regex(await textOf(eva), /Mötesrummet öppnar kl\.\s\d\d:\d\d, en stund före mötet\. Tid kvar: 2\d:\d\d/);
  await eva.browserContext().close();
});

test.serial(
  'a guest page opened in another browser (or after the session ended) says how to get back in, not "log in" and not the staff start page',
  async (t) => {
    const other = await person();
    const reply = await other.goto(`${world.app.url}/entry/waiting`);
    t.is(reply?.status(), 401);
    const words = await textOf(other);
    t.regex(words, /Den här sidan öppnas med länken i din inbjudan\. Öppna länken igen/);
    t.notRegex(words, /logga in|Till startsidan|IT-avdelningen/i);
    t.is(await other.$('a[href="/"]'), null, 'no way to the staff login');
    await other.setViewport({ width: 320, height: 640 });
    t.true(await other.evaluate(() => document.documentElement.scrollWidth <= 320), 'the error code wraps at 320 px');
    await screenshotsAt(other, 'guest-no-session');
    await other.browserContext().close();
  },
);
