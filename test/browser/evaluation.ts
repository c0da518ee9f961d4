// The evaluation in Chromium as people meet it: a patient follows the link in the e-mailed request,
// a guest reaches the form on leaving the meeting; each answers by the questions' labels, and the
// form passes axe-core.
import test from 'ava';
import { useStage } from '../helpers/stage.ts';
import type { Page } from 'puppeteer-core';
import { fill, press, type TestBrowser } from '../helpers/browser.ts';
import { bookMeeting, mailsTo, patientEnters, smsTo, worldParts, until, type World } from '../connlog/_meeting.ts';
import { axe } from '../helpers/axe.ts';
import { present } from '../helpers/present.ts';

let world: World;
let chromium: TestBrowser;
useStage({ ...worldParts, browser: true }, (stage) => {
  world = stage;
  chromium = stage.chromium;
});

/** Picks an option inside the question's group, as a screen reader user hears it: the question, then the choice. */
async function choose(page: Page, question: string, option: string): Promise<void> {
  const group = await page.locator(`::-p-aria([name="${question}"][role="group"])`).waitHandle();
  const radio = await group.$(`::-p-aria([name="${option}"][role="radio"])`);
  if (!radio) throw new Error(`no option ${option} for ${question}`);
  await radio.click();
}

async function answerForm(page: Page): Promise<void> {
  await choose(page, 'Hur fungerade ljud och bild?', '4');
  await choose(page, 'Kunde du säga det du ville under mötet?', '5');
  await choose(page, 'Passade ett digitalt möte för det här syftet?', 'Ja');
  await fill(page, 'Vill du berätta något mer?', 'Tydligt och lugnt.');
  await Promise.all([page.waitForNavigation(), press(page, 'Skicka svaren')]);
}

test.serial('a patient who came in answers through the link in the SMS request after the meeting', async (t) => {
  const booked = await bookMeeting(world);
  await patientEnters(world, booked);
  // The rooms plugin emits 'room.ended' in production when staff end the meeting for everyone.
  world.app.server.app.bus.emit(
    'room.ended' as never,
    { meetingId: booked.meetingId, reason: 'ended_by_staff', byStaffId: null } as never,
  );
  const sms = await until('the evaluation request', () =>
    smsTo(world, booked.patientE164)
      .join('')
      .match(/http:\/\/\S+\/e\/[\w-]+/),
  );
  const link = sms[0];
  const context = await chromium.browser.createBrowserContext();
  const page = await context.newPage();
  // Only for injecting axe-core: the pages' own policy forbids any script they did not ship.
  await page.setBypassCSP(true);
  await page.goto(link);
  t.is(await page.title(), 'Hur fungerade mötet? – Samverka');
  t.deepEqual(await axe(page), []);
  await answerForm(page);
  t.regex(await page.$eval('main', (el) => el.textContent ?? ''), /Tack för dina svar/);
  await page.goto(link);
  t.regex(await page.$eval('main', (el) => el.textContent ?? ''), /Länken fungerar inte|redan svarat/);
  await context.close();
});

test.serial('a guest answers on the page they reach when leaving the meeting', async (t) => {
  const booked = await bookMeeting(world);
  const mail = await until('the invitation', () =>
    mailsTo(world, booked.guestEmail).find((m) => /\/j\//.test(m.text ?? '')),
  );
  const link = present(/(http:\/\/\S+\/j\/[\w-]+)/.exec(mail.text ?? '')?.[1], 'the link in the invitation');
  const context = await chromium.browser.createBrowserContext();
  const page = await context.newPage();
  await page.setBypassCSP(true);
  await page.goto(link);
  await fill(page, 'Ditt namn', 'Lärare Eva Ek');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  // In the meeting (someone came into its room), then out: the meeting page sends the guest here
  // on Jitsi's readyToClose.
  await world.app.server.plugins.meetings.service.advanceStatus(booked.meetingId, 'in_progress');
  await page.goto(`${world.app.url}/entry/evaluation`);
  t.deepEqual(await axe(page), []);
  await answerForm(page);
  t.regex(await page.$eval('main', (el) => el.textContent ?? ''), /Tack för dina svar/);
  await page.goto(`${world.app.url}/entry/evaluation`);
  t.regex(await page.$eval('main', (el) => el.textContent ?? ''), /Du har redan svarat/);
  await context.close();
});

test.serial(
  'the support page, the timeline, the results and the question editor pass axe-core with no violations',
  async (t) => {
    const booked = await bookMeeting(world);
    await until(
      'the invitation to be logged',
      async () =>
        (await world.app.server.app
          .db('connlog_entries')
          .where({ meeting_id: booked.meetingId, type: 'message_sent' })
          .first()) as unknown,
    );
    const { staff, password } = await world.app.staff('admin');
    const context = await chromium.browser.createBrowserContext();
    const page = await context.newPage();
    await page.setBypassCSP(true);
    await page.goto(`${world.app.url}/login`);
    await fill(page, 'E-postadress', staff.email);
    await fill(page, 'Lösenord', password);
    await Promise.all([page.waitForNavigation(), press(page, 'Logga in')]);
    for (const path of [
      `/connlog/meetings/${booked.meetingId}`,
      '/evaluation/results',
      '/evaluation/sets',
      `/evaluation/sets/${staff.unitId}/patient`,
    ]) {
      await page.goto(`${world.app.url}${path}`);
      t.deepEqual(await axe(page), [], path);
    }
    // The support page is found by its labels.
    await page.goto(`${world.app.url}/connlog`);
    await fill(page, 'Deltagarens telefonnummer', booked.patientMobile);
    await Promise.all([page.waitForNavigation(), press(page, 'Sök')]);
    // The result's address holds the search sealed, not the number typed.
    t.false(page.url().includes(booked.patientMobile.slice(-4)), page.url());
    t.deepEqual(await axe(page), [], 'the search results');
    await Promise.all([page.waitForNavigation(), page.locator('a::-p-text(Visa logg)').click()]);
    t.true(page.url().includes(`/connlog/meetings/${booked.meetingId}`), page.url());
    t.regex(await page.$eval('main', (el) => el.textContent ?? ''), /Inbjudan skickades/);
    await context.close();
  },
);
