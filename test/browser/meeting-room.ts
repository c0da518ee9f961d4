// The five-minute rule as a clinician meets it on a 13-inch laptop (1280 × 800): the meeting
// room's participant panel beside the video shows each person's name, kind, status, identification
// and the number to call on readable lines, with the alert and the right channel's "we are waiting
// for you" in view without scrolling. Jitsi is the stand-in from test/helpers/jitsi.ts.
import test from 'ava';
import type { Page } from 'puppeteer-core';
import { brokenText, screenshot, type TestBrowser } from '../helpers/browser.ts';
import type { Relay } from '../helpers/relay.ts';
import type { TestServer } from '../helpers/server.ts';
import { useStage } from '../helpers/stage.ts';
import { until } from '../helpers/wait.ts';
import { bookStartingIn, staffInRoom } from './_booking.ts';
import { present } from '../helpers/present.ts';

let relay: Relay;
let app: TestServer;
let chromium: TestBrowser;
useStage({ relay: true, smsc: true, jitsi: true, browser: true }, (stage) => ({ relay, app, chromium } = stage));

/**
 * A meeting with a patient and her proxy (both by SMS), a teacher by e-mail and a social worker by
 * SMS, none of whom has joined five minutes after the start; the clinician who booked it in the
 * meeting room at 1280 × 800.
 */
async function roomWithNoShows(): Promise<{ page: Page; meetingId: string; teacherEmail: string }> {
  const teacherEmail = `lena.${Math.random().toString(36).slice(2)}@skola.example`;
  const { staff, startsAt, meeting } = await bookStartingIn(app, 2, [
    {
      kind: 'patient_proxy',
      name: 'Sara Lind',
      mobile: '070-123 45 67',
      identification: 'sms',
      proxy: { name: 'Anna Lind', mobile: '070-765 43 21' },
    },
    { kind: 'guest', name: 'Lena Lärare-Johansson', email: teacherEmail, identification: 'none' },
    { kind: 'guest', name: 'Olle Socialsekreterare', mobile: '076-123 45 67', identification: 'sms' },
  ]);
  // The room opens, and six minutes after the start nobody is there: the five-minute rule fires.
  await app.server.plugins.rooms.service.tick();
  await app.server.plugins.rooms.service.tick(new Date(startsAt.getTime() + 6 * 60_000));

  const { page } = await staffInRoom(app, chromium, staff, meeting.id);
  await page.setViewport({ width: 1280, height: 800 });
  return { page, meetingId: meeting.id, teacherEmail };
}

const card = (page: Page, name: string) => page.locator(`::-p-aria([name="${name}"][role="listitem"])`).waitHandle();
const cardText = async (page: Page, name: string) =>
  (await card(page, name)).evaluate((el) => (el as HTMLElement).innerText);

test.serial(
  'at 1280 × 800 the panel shows each person on readable lines, numbers never broken, and every alert in view',
  async (t) => {
    const { page } = await roomWithNoShows();
    await screenshot(page, 'meeting-room-1280');

    t.deepEqual(await brokenText(page, '#panel'), [], 'no word and no phone number is broken across lines');
    const sara = await cardText(page, 'Sara Lind');
    t.regex(sara, /Patient med ombud: Anna Lind/);
    t.regex(sara, /Status\s+Inbjuden/);
    t.regex(sara, /Identifiering\s+Inte ännu/);
    t.regex(sara, /Sara Lind: 070-123 45 67\s+Anna Lind \(ombud\): 070-765 43 21/, 'whose number is whose');
    t.regex(
      await cardText(page, 'Olle Socialsekreterare'),
      /Olle Socialsekreterare har inte anslutit\. Ring 076-123 45 67\./,
    );

    // Every number is a link the laptop's softphone (or a phone) can call.
    const links = await page.$$eval('#panel a[href^="tel:"]', (as) =>
      as.map((a) => [a.textContent, a.getAttribute('href')]),
    );
    t.deepEqual(
      new Set(links.map(([, href]) => href)),
      new Set(['tel:+46701234567', 'tel:+46707654321', 'tel:+46761234567']),
    );

    // The alerts and what to do about them are in view while talking: nothing to scroll to.
    const below = await page.$$eval('#panel [role="alert"], #panel a[href^="tel:"], #panel .noshow button', (els) =>
      els.filter((el) => el.getBoundingClientRect().bottom > innerHeight).map((el) => (el as HTMLElement).innerText),
    );
    t.deepEqual(below, [], 'everything the five-minute rule needs is above the fold');
    await page.browserContext().close();
  },
);

test.serial(
  "the nudge goes on the invitation's channel: an e-mail guest gets an e-mail, and the panel says so",
  async (t) => {
    const { page, teacherEmail } = await roomWithNoShows();
    const teacher = await cardText(page, 'Lena Lärare-Johansson');
    t.regex(teacher, /Inget telefonnummer \(inbjuden via mejl\): skicka ett mejl\./);
    t.notRegex(teacher, /sms/i, 'no SMS is offered to someone without a mobile number');
    t.regex(await cardText(page, 'Olle Socialsekreterare'), /Skicka sms: vi väntar på dig/);

    const mailsBefore = relay.received.length;
    const button = await (
      await card(page, 'Lena Lärare-Johansson')
    ).waitForSelector('::-p-aria([name="Skicka mejl: vi väntar på dig"][role="button"])');
    await Promise.all([page.waitForNavigation(), present(button, 'the e-mail nudge button').click()]);
    const nudge = await until('the e-mail nudge', () =>
      relay.received.slice(mailsBefore).find((m) => m.to && 'text' in m.to && m.to.text.includes(teacherEmail)),
    );
    t.is(nudge.subject, 'Vi väntar på dig i det digitala mötet');
    t.regex(await cardText(page, 'Lena Lärare-Johansson'), /Mejl skickat\./);
    await page.browserContext().close();
  },
);
