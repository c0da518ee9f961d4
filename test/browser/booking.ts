// A clinician books a meeting in Chromium the way the routine describes it: the patient invited
// by SMS, a teacher by e-mail with no identification, a social worker by SMS with SMS
// identification; sees it in the week view, opens it from the patient's name, reschedules it
// and cancels it. Every field is found by its label.
import test from 'ava';
import type { Page } from 'puppeteer-core';
import { addDays, mondayOf, today } from '../../appliance/src/common/clock.ts';
import { byLabel, fill, press, submit, type TestBrowser } from '../helpers/browser.ts';
import type { TestServer } from '../helpers/server.ts';
import { useStage } from '../helpers/stage.ts';
import { booking } from '../meetings/_booking.ts';
import { axe } from '../helpers/axe.ts';
import { present } from '../helpers/present.ts';
import { meetingIdOf } from './_booking.ts';
import { recordJoin, recordLeave } from '../../appliance/src/rooms/store.ts';
import { findMeeting } from '../../appliance/src/meetings/store.ts';

let app: TestServer;
let chromium: TestBrowser;
useStage({ browser: true }, (stage) => ({ app, chromium } = stage));

/** Date and time inputs take their value as a person picks it, not as typed keys. */
async function pick(page: Page, label: string, value: string): Promise<void> {
  const input = await byLabel(page, label);
  await input.evaluate((el, v) => {
    (el as HTMLInputElement).value = v;
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
  }, value);
}

async function choose(page: Page, label: string, value: string): Promise<void> {
  await (await byLabel(page, label)).select(value);
}

async function radio(page: Page, name: string): Promise<void> {
  await page.locator(`::-p-aria([name="${name}"][role="radio"])`).click();
}

const text = (page: Page, selector: string) => page.$eval(selector, (el) => (el as HTMLElement).innerText);

/** A browser of its own (the other tests' logins stay out of it), logged in as this staff member. */
async function loggedInPage(email: string, password: string) {
  const context = await chromium.browser.createBrowserContext();
  const page = await context.newPage();
  await page.goto(`${app.url}/login`);
  await fill(page, 'E-postadress', email);
  await fill(page, 'Lösenord', password);
  await submit(page, 'Logga in');
  return { context, page };
}

/** A clinician's browser logged in, their API client beside it, and a meeting they booked through it. */
async function clinicianWithMeeting() {
  const { staff, password } = await app.staff('clinician');
  const { context, page } = await loggedInPage(staff.email, password);
  const client = app.client();
  await client.login(staff.email, password);
  const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json<{ id: string }>();
  return { staff, context, page, client, meeting };
}

test.serial('a clinician books, finds, reschedules and cancels a meeting', async (t) => {
  const { staff, password } = await app.staff('clinician', 'Barn- och ungdomsmedicin', { name: 'Karin Åberg' });
  const page = await chromium.page();
  await page.goto(`${app.url}/login`);
  await fill(page, 'E-postadress', staff.email);
  await fill(page, 'Lösenord', password);
  await submit(page, 'Logga in');

  await Promise.all([page.waitForNavigation(), press(page, 'Kalender', 'link')]);
  await Promise.all([page.waitForNavigation(), press(page, 'Boka möte', 'link')]);
  t.is(await page.title(), 'Boka möte – Samverka');

  const day = addDays(today(), 1);
  await fill(page, 'Rubrik', 'Samordnad individuell plan');
  await pick(page, 'Datum', day);
  await pick(page, 'Starttid', '10:00');
  await fill(page, 'Hur dokumenteras mötet under och efter?', 'Anteckning i journalen av Karin');

  // The patient first, invited by SMS.
  await radio(page, 'Patient');
  await fill(page, 'Namn', 'Sara Lind');
  await fill(page, 'Mobilnummer', '070-123 45 67');
  await choose(page, 'Välj identifieringsmetod', 'sms');
  await submit(page, 'Lägg till');

  // A teacher by e-mail with no identification; typing a mobile too explains why not.
  await radio(page, 'Gäst');
  t.false(
    await page.$eval('#p_personalNumber', (el) => (el.closest('[data-for]') as HTMLElement).hidden === false),
    'no personal number field for a guest',
  );
  await fill(page, 'Namn', 'Eva Ek');
  await fill(page, 'Mejladress', 'eva.ek@skola.example');
  await fill(page, 'Mobilnummer', '0701234567');
  await page.waitForFunction(() =>
    document.querySelector('#contact-hint')?.textContent?.includes('kan inte ha både mobilnummer och mejladress'),
  );
  t.regex(await text(page, '#contact-hint'), /En gäst kan inte ha både mobilnummer och mejladress/);
  await (await byLabel(page, 'Mobilnummer')).click({ count: 3 });
  await page.keyboard.press('Backspace');
  await page.waitForFunction(() => document.querySelector('#contact-hint')?.textContent === '');
  await choose(page, 'Välj identifieringsmetod', 'none');
  await submit(page, 'Lägg till');

  // A social worker by SMS, identified by SMS code.
  await radio(page, 'Gäst');
  await fill(page, 'Namn', 'Olle Socialsekreterare');
  await fill(page, 'Mobilnummer', '076-123 45 67');
  await choose(page, 'Välj identifieringsmetod', 'sms');
  await submit(page, 'Lägg till');

  const list = await text(page, '.participant-list');
  t.regex(list, /Jag \(Karin Åberg\)/);
  t.regex(list, /Sara Lind Patient/);
  t.regex(list, /Eva Ek Gäst/);
  t.regex(list, /Olle Socialsekreterare Gäst/);

  await submit(page, 'Boka mötet');
  t.regex(new URL(page.url()).pathname, /^\/meetings\/[0-9a-f-]{36}$/);
  t.regex(await text(page, '[role="status"]'), /Mötet är bokat/);

  // The week view, as the clinician finds it: Kalender, then the next week if tomorrow is in it.
  await Promise.all([page.waitForNavigation(), press(page, 'Kalender', 'link')]);
  await Promise.all([page.waitForNavigation(), press(page, 'Vecka', 'link')]);
  if (mondayOf(day) !== mondayOf(today())) await Promise.all([page.waitForNavigation(), press(page, 'Nästa', 'link')]);
  const column = await text(page, `section[aria-labelledby="day-${day}"]`);
  t.regex(column, /10:00–10:45/);
  t.regex(column, /Samordnad individuell plan/);
  t.regex(column, /Eva Ek \(Gäst\)/);

  await Promise.all([page.waitForNavigation(), press(page, 'Sara Lind', 'link')]);
  t.is(await page.title(), 'Samordnad individuell plan – Samverka');
  t.regex(
    await text(page, 'table.participants'),
    /Olle Socialsekreterare\s+Gäst\s+076-123 45 67\s+SMS\s+(Inbjuden|Inbjudan levererad)/,
  );

  // A status reported by another part of the appliance appears without a reload.
  const meetingId = meetingIdOf(page);
  const meeting = await app.server.plugins.meetings.service.find(meetingId);
  await page.waitForFunction(() => !(document.querySelector('.live-note') as HTMLElement).hidden);
  app.server.app.bus.emit('participant.status', {
    meetingId,
    participantId: present(meeting?.participants[0], 'the booked patient').id,
    status: 'waiting',
  });
  await page.waitForFunction(() => document.querySelector('table.participants')?.textContent?.includes('Väntar'));
  t.pass('live status update');

  // Reschedule, with confirmation.
  const later = addDays(today(), 3);
  await pick(page, 'Nytt datum', later);
  await pick(page, 'Ny starttid', '13:30');
  await submit(page, 'Flytta mötet');
  t.regex(
    await text(page, 'main'),
    /Flytta mötet ”Samordnad individuell plan” från .* kl\. 10:00–10:45 till .* kl\. 13:30–14:15\?/,
  );
  await submit(page, 'Ja, flytta mötet');
  t.regex(await text(page, '[role="status"]'), /Mötet är flyttat/);
  t.regex(await text(page, 'dl'), /13:30–14:15/);

  // Cancel, with a reason and confirmation.
  await fill(page, 'Orsak (skickas till alla deltagare)', 'Patienten är inlagd');
  await submit(page, 'Ställ in mötet');
  await submit(page, 'Ja, ställ in mötet');
  t.regex(await text(page, '[role="status"]'), /Mötet är inställt/);
  t.regex(await text(page, 'dl'), /inställt/);
  t.regex(await text(page, 'dl'), /Patienten är inlagd/);
});

test.serial("a cancellation reason written in paragraphs up to the field's limit is taken", async (t) => {
  const { staff, password } = await app.staff('clinician');
  const client = app.client();
  await client.login(staff.email, password);
  const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json();
  const { context, page } = await loggedInPage(staff.email, password);
  await page.goto(`${app.url}/meetings/${meeting.id}`);

  // Five paragraphs, 500 characters as the field counts them (a line break is one); the browser
  // sends each line break as two (CR LF).
  const paragraph =
    'Patienten är inlagd på avdelning 12 och kan inte delta. Vi återkommer med en ny tid så snart vi kan.';
  const reason = [0, 1, 2, 3, 4].map(() => paragraph.slice(0, 99)).join('\n') + 'x';
  t.is(reason.length, 500);
  await fill(page, 'Orsak (skickas till alla deltagare)', reason);
  const [asked] = await submit(page, 'Ställ in mötet');
  t.is(asked?.status(), 200, 'the question before cancelling, not an error page');
  await submit(page, 'Ja, ställ in mötet');
  t.regex(await text(page, '[role="status"]'), /Mötet är inställt/);
  const stored = (await client.get(`/api/v1/meetings/${meeting.id}`)).json();
  t.is(stored.status, 'cancelled');
  t.is(stored.cancelReason, reason);
  await context.close();
});

test.serial('the calendar, the booking form and the meeting page pass axe-core with no violations', async (t) => {
  const { staff, password } = await app.staff('clinician');
  const context = await chromium.browser.createBrowserContext();
  const page = await context.newPage();
  // Only for injecting axe-core: the pages' own policy forbids any script they did not ship.
  await page.setBypassCSP(true);
  await page.goto(`${app.url}/login`);
  await fill(page, 'E-postadress', staff.email);
  await fill(page, 'Lösenord', password);
  await submit(page, 'Logga in');
  const client = app.client();
  await client.login(staff.email, password);
  const meeting = (
    await client.request('POST', '/api/v1/meetings', {
      json: booking({ startsAt: new Date(Date.now() + 3600_000).toISOString() }),
    })
  ).json();
  for (const path of ['/calendar', '/calendar?view=week', '/meetings/new', `/meetings/${meeting.id}`]) {
    await page.goto(`${app.url}${path}`);
    t.deepEqual(await axe(page), [], path);
  }
  // The form as it stands after a refused participant: the error, the invalid field.
  await page.goto(`${app.url}/meetings/new`);
  await radio(page, 'Patient');
  await fill(page, 'Namn', 'Sara Lind');
  await submit(page, 'Lägg till');
  t.regex(await text(page, '[role="alert"]'), /Identifiering med SMS kräver ett mobilnummer för Sara Lind/);
  t.is(await (await byLabel(page, 'Mobilnummer')).evaluate((el) => el.getAttribute('aria-invalid')), 'true');
  t.deepEqual(await axe(page), [], 'the form with an error');
  await context.close();
});

test.serial(
  'the meeting record passes axe-core with no violations: with people in the room (one removed since) and its summary, and where presence is not recorded',
  async (t) => {
    const { staff, password } = await app.staff('clinician');
    const client = app.client();
    await client.login(staff.email, password);
    const book = async () =>
      (await client.request('POST', '/api/v1/meetings', { json: booking() })).json<{
        id: string;
        version: number;
        participants: { id: string }[];
      }>();
    const { db } = app.server.app;
    const start = new Date(Date.now() - 60 * 60_000);
    const minute = (n: number) => new Date(start.getTime() + n * 60_000);
    const held = (id: string) =>
      db('meetings').where({ id }).update({ starts_at: start.toISOString(), status: 'ended' });
    const attended = await book();
    const [sara, eva] = attended.participants;
    const join = (nick: string, who: { staffId?: string; participantId?: string }, at: Date) =>
      recordJoin(
        db,
        {
          meetingId: attended.id,
          participantId: who.participantId ?? null,
          staffId: who.staffId ?? null,
          nick,
          displayName: null,
          person: who.participantId ? 'main' : null,
        },
        at,
      );
    await join('host', { staffId: staff.id }, minute(0));
    await join('sara', { participantId: present(sara, 'the patient').id }, minute(2));
    await join('eva', { participantId: present(eva, 'the teacher').id }, minute(3));
    await recordLeave(db, attended.id, 'eva', 'left', minute(10));
    const removal = await client.request(
      'DELETE',
      `/api/v1/meetings/${attended.id}/participants/${present(eva, 'the teacher').id}?version=${attended.version}`,
      { headers: { 'x-csrf-token': present(client.crumb, 'the crumb') } },
    );
    t.is(removal.status, 200, removal.text);
    await recordLeave(db, attended.id, 'sara', 'left', minute(40));
    await recordLeave(db, attended.id, 'host', 'left', minute(41));
    await held(attended.id);
    const unrecorded = await book();
    await held(unrecorded.id);

    const { context, page } = await loggedInPage(staff.email, password);
    // Only for injecting axe-core: the pages' own policy forbids any script they did not ship.
    await page.setBypassCSP(true);
    await page.goto(`${app.url}/meetings/${attended.id}`);
    await Promise.all([
      page.waitForNavigation(),
      press(page, 'Mötesuppgifter: vem som deltog, när och hur länge', 'link'),
    ]);
    t.regex(await text(page, 'main'), /Lärare Eva Ek\s+Gäst, borttagen ur mötet/);
    t.deepEqual(await axe(page), [], 'the record with people in the room');
    // This appliance runs without XMPP_*: a meeting nobody's presence was recorded for.
    await page.goto(`${app.url}/meetings/${unrecorded.id}/record`);
    t.regex(await text(page, 'main'), /registrerar inte vem som är i mötesrummet/);
    t.deepEqual(await axe(page), [], 'the record where presence is not recorded');
    await context.close();
  },
);

test.serial(
  'a start at any minute (10:03), as the API takes it, is taken by the booking and reschedule forms too',
  async (t) => {
    const { staff, password } = await app.staff('clinician');
    const client = app.client();
    await client.login(staff.email, password);
    const startsAt = new Date(Date.now() + 2 * 86_400_000);
    startsAt.setUTCHours(9, 3, 0, 0);
    const meeting = (
      await client.request('POST', '/api/v1/meetings', { json: booking({ startsAt: startsAt.toISOString() }) })
    ).json();
    t.is(meeting.startsAt, startsAt.toISOString(), 'the API books 10:03 as sent');
    const { context, page } = await loggedInPage(staff.email, password);
    const takes = async (label: string) => {
      await pick(page, label, '10:03');
      return (await byLabel(page, label)).evaluate((el) => (el as HTMLInputElement).checkValidity());
    };
    await page.goto(`${app.url}/meetings/new`);
    t.true(await takes('Starttid'), 'the booking form lets 10:03 be sent');
    await page.goto(`${app.url}/meetings/${meeting.id}`);
    t.true(await takes('Ny starttid'), 'the reschedule form lets 10:03 be sent');
    await context.close();
  },
);

test.serial(
  'a meeting the API booked for 47 minutes can be moved with the form as it is filled in, and booked so long',
  async (t) => {
    const { staff, password } = await app.staff('clinician');
    const client = app.client();
    await client.login(staff.email, password);
    const meeting = (
      await client.request('POST', '/api/v1/meetings', { json: booking({ durationMinutes: 47 }) })
    ).json();
    t.is(meeting.durationMinutes, 47);
    const { context, page } = await loggedInPage(staff.email, password);
    await page.goto(`${app.url}/meetings/${meeting.id}`);
    t.is(await (await byLabel(page, 'Längd i minuter')).evaluate((el) => (el as HTMLInputElement).value), '47');
    const form = await byLabel(page, 'Ny starttid');
    t.true(
      await form.evaluate((el) => (el as HTMLInputElement).form!.checkValidity()),
      'the reschedule form, as filled in, can be sent',
    );
    await page.goto(`${app.url}/meetings/new`);
    const duration = await byLabel(page, 'Längd i minuter');
    await duration.evaluate((el) => ((el as HTMLInputElement).value = '47'));
    t.true(
      await duration.evaluate((el) => (el as HTMLInputElement).checkValidity()),
      'the booking form takes 47 minutes',
    );
    await context.close();
  },
);

test.serial(
  'the calendar heads each day as Swedish writes it, "måndag 7 december 2026" in lower case; English as English does',
  async (t) => {
    const { staff, password } = await app.staff('clinician');
    const { context, page } = await loggedInPage(staff.email, password);
    // The week of Monday 7 December 2026, as the screen shows its day headings.
    const headings = async () => {
      await page.goto(`${app.url}/calendar?view=week&date=2026-12-07`);
      const found = await page.$$('::-p-aria([role="heading"])');
      const texts = await Promise.all(found.map((h) => h.evaluate((el) => (el as HTMLElement).innerText)));
      return texts.filter((text) => /2026$/.test(text));
    };
    t.deepEqual(await headings(), [
      'måndag 7 december 2026',
      'tisdag 8 december 2026',
      'onsdag 9 december 2026',
      'torsdag 10 december 2026',
      'fredag 11 december 2026',
      'lördag 12 december 2026',
      'söndag 13 december 2026',
    ]);
    await Promise.all([page.waitForNavigation(), press(page, 'In English', 'link')]);
    t.deepEqual((await headings()).slice(0, 2), ['Monday, 7 December 2026', 'Tuesday, 8 December 2026']);
    await context.close();
  },
);

// The switch is a button of the booking form itself: the same with the page's script as without it.
for (const javaScript of [true, false])
  test.serial(
    `switching to English in the middle of a booking keeps what was typed and the participants added, ${javaScript ? 'with' : 'without'} JavaScript`,
    async (t) => {
      const { staff, password } = await app.staff('clinician');
      const { context, page } = await loggedInPage(staff.email, password);
      // Without the page's scripts (puppeteer itself needs the browser's JavaScript to drive the page).
      if (!javaScript) {
        await page.setRequestInterception(true);
        page.on('request', (request) =>
          request.url().endsWith('.js') ? void request.abort() : void request.continue(),
        );
      }
      await page.goto(`${app.url}/meetings/new`);
      const day = addDays(today(), 3);
      await fill(page, 'Rubrik', 'Planering inför skolstart');
      await pick(page, 'Datum', day);
      await pick(page, 'Starttid', '13:15');
      await fill(page, 'Hur dokumenteras mötet under och efter?', 'Journalanteckning');
      await radio(page, 'Patient');
      await fill(page, 'Namn', 'Sara Lind');
      await fill(page, 'Mobilnummer', '070-123 45 67');
      await submit(page, 'Lägg till');
      // A guest half typed when the clinician switches language.
      await radio(page, 'Gäst');
      await fill(page, 'Namn', 'Eva Ek');

      await Promise.all([page.waitForNavigation(), press(page, 'In English')]);
      t.is(await page.title(), 'Book a meeting – Samverka');
      const value = async (label: string) =>
        (await byLabel(page, label)).evaluate((el) => (el as HTMLInputElement).value);
      t.is(await value('Title'), 'Planering inför skolstart');
      t.is(await value('Date'), day);
      t.is(await value('Start time'), '13:15');
      t.is(await value('How is the meeting documented during and after?'), 'Journalanteckning');
      t.is(await value('Name'), 'Eva Ek', 'the participant being typed too');
      t.regex(await text(page, '.participant-list'), /Sara Lind/);
      t.falsy(await page.$('#problem'), 'switching is not booking: nothing is refused');

      // And back: still all there; the language chosen stays for the next page.
      await Promise.all([page.waitForNavigation(), press(page, 'På svenska')]);
      t.is(await value('Rubrik'), 'Planering inför skolstart');
      t.regex(await text(page, '.participant-list'), /Sara Lind/);
      await page.goto(`${app.url}/calendar`);
      t.is(await page.$eval('html', (el) => el.lang), 'sv');
      await context.close();
    },
  );

test.serial(
  "the meeting page's links follow the meeting live: the evaluation once it is held, no way in once it has ended",
  async (t) => {
    const { context, page, meeting } = await clinicianWithMeeting();
    await page.goto(`${app.url}/meetings/${meeting.id}`);
    // The page is live once its stream is open (it says so).
    await page.locator('::-p-text(Deltagarnas status uppdateras automatiskt.)').wait();
    const links = () => text(page, '.meeting-links');
    t.regex(await links(), /Anslut till mötet/);
    t.notRegex(await links(), /Utvärdera mötet/, 'not held yet');
    t.notRegex(await links(), /Mötesuppgifter/, 'no record before it is held');

    // Someone comes into the room (the rooms plugin moves the meeting on): the evaluation is offered.
    await app.server.plugins.meetings.service.advanceStatus(meeting.id, 'in_progress');
    await page.locator('::-p-aria([name="Utvärdera mötet"][role="link"])').wait();
    t.regex(await links(), /Anslut till mötet/, 'still under way');
    t.regex(await links(), /Mötesuppgifter: vem som deltog, när och hur länge/);

    // The meeting ends for everyone: no way in any more, and the page says it has ended.
    await app.server.plugins.meetings.service.advanceStatus(meeting.id, 'ended');
    await page.locator('::-p-text(Mötet har avslutats.)').wait();
    t.notRegex(await links(), /Anslut till mötet/);
    t.regex(await links(), /Utvärdera mötet/);
    await context.close();
  },
);

test.serial(
  'a meeting page left open follows the clock with no event: at the start it offers the record, and then names the end and grace as its next moment',
  async (t) => {
    const { context, page, meeting } = await clinicianWithMeeting();
    // The start moved to three seconds from now behind the appliance's back: no event tells the page.
    const startsAt = new Date(Date.now() + 3000);
    await app.server.app.db('meetings').where({ id: meeting.id }).update({ starts_at: startsAt.toISOString() });
    // Its room opened already (the schedule's part, which tells the page): what is left is the clock's.
    t.true(
      await app.server.plugins.rooms.service.open(
        present(await findMeeting(app.server.app.db, meeting.id), 'the meeting'),
      ),
    );
    await page.goto(`${app.url}/meetings/${meeting.id}`);
    const changesAt = () => page.$eval('#meeting-live', (el) => (el as HTMLElement).dataset.changesAt);
    t.is(await changesAt(), startsAt.toISOString());
    t.notRegex(await text(page, '#meeting-live'), /Mötesuppgifter/, 'not held yet');
    await page.locator('::-p-aria([name="Mötesuppgifter: vem som deltog, när och hur länge"][role="link"])').wait();
    const graceMinutes = app.config.roomGraceMinutes;
    t.is(await changesAt(), new Date(startsAt.getTime() + (45 + graceMinutes) * 60_000).toISOString());
    await context.close();
  },
);

test.serial(
  'switching language on the meeting page keeps what was typed into its forms; without JavaScript the switch is still a link',
  async (t) => {
    const { context, page, meeting } = await clinicianWithMeeting();
    await page.goto(`${app.url}/meetings/${meeting.id}`);
    const value = async (label: string) =>
      (await byLabel(page, label)).evaluate((el) => (el as HTMLInputElement).value);
    // Half way through adding a guest, a new duration typed, a cancellation reason begun.
    await radio(page, 'Gäst');
    await fill(page, '[name="Namn"][role="textbox"]', 'Eva Ek');
    await choose(page, '[name="Land"][role="combobox"]', 'NO');
    await fill(page, 'Mejladress', 'eva@skola.example');
    await fill(page, 'Orsak (skickas till alla deltagare)', 'Patienten är sjuk');
    await (await byLabel(page, 'Längd i minuter')).evaluate((el) => ((el as HTMLInputElement).value = ''));
    await fill(page, 'Längd i minuter', '60');

    await Promise.all([page.waitForNavigation(), press(page, 'In English', 'link')]);
    t.is(await page.$eval('html', (el) => el.lang), 'en');
    await page.waitForFunction(() => document.querySelector<HTMLInputElement>('#p_name')?.value !== '', {
      timeout: 5000,
    });
    t.is(await value('[name="Name"][role="textbox"]'), 'Eva Ek');
    t.is(await value('[name="Country"][role="combobox"]'), 'NO');
    t.is(await value('E-mail address'), 'eva@skola.example');
    t.is(await value('Reason (sent to every participant)'), 'Patienten är sjuk');
    t.is(await value('Duration in minutes'), '60');
    t.true(
      await page.$eval('input[name="p_kind"][value="guest"]', (el) => el.checked),
      'the kind chosen, its fields shown',
    );
    t.false(await page.$eval('#p_email', (el) => (el.closest('.field') as HTMLElement).hidden));
    t.is(await value('Choose identification method'), 'none', "a guest's method, as the kind starts it");

    // Nothing is kept for a later visit: the page loaded again is as the server draws it.
    await page.reload();
    t.is(await value('[name="Name"][role="textbox"]'), '');

    // A guest the form refused (no address) comes back as typed; the switch keeps that too.
    await fill(page, '[name="Name"][role="textbox"]', 'Per Ek');
    await submit(page, 'Add');
    t.regex(await text(page, '#participant-problem'), /mobile number or an e-mail address/);
    await Promise.all([page.waitForNavigation(), press(page, 'På svenska', 'link')]);
    t.is(await page.$eval('html', (el) => el.lang), 'sv');
    await page.waitForFunction(() => document.querySelector<HTMLInputElement>('#p_name')?.value !== '', {
      timeout: 5000,
    });
    t.is(await value('[name="Namn"][role="textbox"]'), 'Per Ek');

    // Without the page's scripts the switch is the link it was: the page comes back in English.
    await page.setRequestInterception(true);
    page.on('request', (request) => (request.url().endsWith('.js') ? void request.abort() : void request.continue()));
    await page.reload();
    await Promise.all([page.waitForNavigation(), press(page, 'In English', 'link')]);
    t.is(await page.$eval('html', (el) => el.lang), 'en');
    t.is(new URL(page.url()).pathname, `/meetings/${meeting.id}`);
    await context.close();
  },
);
