// Support in Chromium: finds a meeting by the patient's phone number, reads its connection log as a
// person would (sentences and labelled figures, no raw keys or page internals) and exports it.
import test from 'ava';
import { useStage } from '../helpers/stage.ts';
import { fill, press, screenshot, type TestBrowser } from '../helpers/browser.ts';
import { bookMeeting, chrome, guestEnters, worldParts, until, type World } from '../connlog/_meeting.ts';

let world: World;
let chromium: TestBrowser;
useStage({ ...worldParts, browser: true }, (stage) => {
  world = stage;
  chromium = stage.chromium;
});

test("support reads a meeting's log in words and figures, and exports it as JSON and CSV", async (t) => {
  const booked = await bookMeeting(world);
  const guest = await guestEnters(world, booked);
  // The guest's tech test, as the test page posts it, with the download estimate's odd decimals.
  const result = {
    camera: 'yes',
    microphone: 'detected',
    microphoneLevel: 0.2,
    sound: 'yes',
    network: {
      relayConfigured: false,
      rttMs: 42.4,
      jitterMs: 3,
      loss: 0.012,
      downloadKbps: 4064.248062015504,
      uploadKbps: 9000,
    },
  };
  t.is(
    (await guest.request('POST', '/entry/test/results', { json: result, headers: { 'user-agent': chrome } })).status,
    201,
  );
  await until(
    'the invitations sent',
    async () =>
      (await world.app.server.app.db('connlog_entries').where({ meeting_id: booked.meetingId, type: 'message_sent' }))
        .length >= 2,
  );

  const { staff, password } = await world.app.staff('support');
  const page = await chromium.page();
  await page.setViewport({ width: 1280, height: 800 });
  await page.goto(`${world.app.url}/login`);
  await fill(page, 'E-postadress', staff.email);
  await fill(page, 'Lösenord', password);
  await Promise.all([page.waitForNavigation(), press(page, 'Logga in')]);
  await Promise.all([page.waitForNavigation(), press(page, 'Anslutningsloggar', 'link')]);
  await fill(page, 'Deltagarens telefonnummer', booked.patientMobile);
  await Promise.all([page.waitForNavigation(), press(page, 'Sök')]);
  await Promise.all([page.waitForNavigation(), page.locator('a::-p-text(Visa logg)').click()]);
  await screenshot(page, 'support-log');

  const main = await page.$eval('main', (el) => el.innerText);
  t.notRegex(main, /crumb|swagger|documentationPath/, 'no page internals on the page');
  t.notRegex(main, /\bkind\b|\bchannel\b|downloadKbps|hasPhone|\d\.\d{4,}/, 'no raw keys or unrounded figures');
  t.regex(main, /Inbjudan skickades \(sms\)/);
  t.regex(main, /Nedladdning\s+4,1 Mbit\/s/);
  t.regex(main, /Svarstid\s+42 ms/);
  t.regex(main, /Paketförlust\s+1,2 %/);
  t.regex(main, /Kamera\s+såg sig själv/);

  // The export links are links, each with its own name, and give the log as files.
  const href = (name: string) =>
    page.$eval(`::-p-aria([name="${name}"][role="link"])`, (a) => (a as HTMLAnchorElement).href);
  const download = (url: string) =>
    page.evaluate(async (u) => {
      const reply = await fetch(u);
      return {
        status: reply.status,
        type: reply.headers.get('content-type'),
        disposition: reply.headers.get('content-disposition'),
        body: await reply.text(),
      };
    }, url);
  const json = await download(await href('Exportera som JSON'));
  t.is(json.status, 200);
  t.regex(json.disposition ?? '', /attachment; filename="samverka-log-.*\.json"/);
  const exported = JSON.parse(json.body);
  t.is(exported.meeting.id, booked.meetingId);
  t.true(exported.entries.some((e: { type: string }) => e.type === 'techtest'));
  const csv = await download(await href('Exportera som CSV'));
  t.is(csv.status, 200);
  t.regex(csv.type ?? '', /^text\/csv/);
  t.regex(csv.body, /^at;participantId;participant;type;error;text;details\r\n/);

  // Back to the search: the results the log was opened from, with the number still in the form.
  await Promise.all([page.waitForNavigation(), press(page, 'Tillbaka till sökningen', 'link')]);
  t.is(await page.$eval('input[name="phone"]', (input) => input.value), booked.patientMobile);
  t.regex(await page.$eval('main', (el) => el.innerText), /Visar 1 möte\./);
});
