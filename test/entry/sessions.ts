// The guest's session after the name check, as the clinic's changes meet it: a guest invited to
// more than one meeting, a meeting moved after the guest came in, a meeting cancelled while the
// guest is in the waiting room.
import test from 'ava';
import { sha256 } from '../../appliance/src/crypto.ts';
import { findLink } from '../../appliance/src/entry/links.ts';
import { findGuestSession } from '../../appliance/src/entry/store.ts';
import { booking, inDays, loggedIn } from '../meetings/_booking.ts';
import { present } from '../helpers/present.ts';
import { startRelay, type Relay } from '../helpers/relay.ts';
import { eventStream, startServer, type Client, type TestServer } from '../helpers/server.ts';
import { mailedPath } from '../helpers/wait.ts';

const chrome = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

let app: TestServer;
let relay: Relay;
test.before(async () => {
  relay = await startRelay();
  app = await startServer({ env: { SMTP_URL: relay.url, REMINDER_OFFSETS: 'none' } });
});
test.after.always(async () => {
  await app?.stop();
  await relay?.close();
});

/** A clinician books a meeting with Sara Lind and the social worker Olle, invited by e-mail with no identification. */
async function bookWithOlle(clinician: Client, startsAt = inDays(2)) {
  const email = `olle.${Math.random().toString(36).slice(2)}@kommun.example`;
  const meeting = (
    await clinician.request('POST', '/api/v1/meetings', {
      json: booking({
        startsAt,
        participants: [
          { kind: 'patient', name: 'Sara Lind', mobile: '070-123 45 67', identification: 'sms' },
          { kind: 'guest', name: 'Olle Socialsekreterare', email, identification: 'none' },
        ],
      }),
    })
  ).json();
  return { meeting, path: await mailedPath(relay, email) };
}

/** Olle (or another guest) opens his link in his browser and types his name. */
async function olleEnters(browser: Client, path: string, name = 'Olle Socialsekreterare') {
  await browser.get(path, { 'user-agent': chrome });
  return browser.request('POST', '/j', {
    form: { crumb: browser.crumb ?? '', token: path.slice(3), name },
    headers: { 'user-agent': chrome },
  });
}

/** The day the room of the meeting the browser is in now opens, as its waiting room says. */
async function opensOn(browser: Client): Promise<string | undefined> {
  const stream = await eventStream(browser, '/entry/waiting/events');
  const said = await stream.read(/"opensAt":"[^"]+"/);
  stream.close();
  return /"opensAt":"(\d{4}-\d\d-\d\d)/.exec(said)?.[1];
}

test('a social worker invited to two meetings enters both from the same browser and can still go back to the first', async (t) => {
  const { client } = await loggedIn(app);
  const monday = await bookWithOlle(client, inDays(3));
  const tuesday = await bookWithOlle(client, inDays(4));
  const browser = app.client();
  // Olle follows both invitations ahead of time, as the invitation asks him to test his connection.
  t.is((await olleEnters(browser, monday.path)).status, 200);
  t.is((await olleEnters(browser, tuesday.path)).status, 200);
  // On Monday he opens Monday's invitation again, in the browser he entered it with.
  const again = await browser.get(monday.path, { 'user-agent': chrome });
  t.not(again.status, 409, 'not "the link has already been used"');
  t.is(again.status, 302);
  t.is(again.headers.get('location'), '/entry');
  // And what follows is Monday's meeting, while Tuesday's link still leads to Tuesday's.
  t.is(await opensOn(browser), monday.meeting.startsAt.slice(0, 10));
  t.is((await browser.get(tuesday.path, { 'user-agent': chrome })).status, 302);
  t.is(await opensOn(browser), tuesday.meeting.startsAt.slice(0, 10));
});

test('a guest who came in before the meeting was moved to a later day still holds the way in at the new time', async (t) => {
  const { client } = await loggedIn(app);
  const { meeting, path } = await bookWithOlle(client, inDays(2));
  const browser = app.client();
  const entered = await olleEnters(browser, path);
  t.is(entered.status, 200);
  const cookie = present(
    entered.headers.getSetCookie().find((c) => c.startsWith('samverka_guest=')),
    'the guest session cookie',
  );
  // The clinic moves the meeting three days on; Olle's link is told of it and stays valid.
  const startsAt = inDays(5);
  const moved = await client.request('PATCH', `/api/v1/meetings/${meeting.id}`, {
    json: { version: meeting.version, startsAt },
  });
  t.is(moved.status, 200, moved.text);
  const atNewStart = new Date(startsAt);
  // The browser keeps the cookie as long as its Max-Age: it must last until the meeting at its new time.
  const maxAge = Number(present(/Max-Age=(\d+)/i.exec(cookie)?.[1], "the cookie's Max-Age"));
  t.true(Date.now() + maxAge * 1000 > atNewStart.getTime(), 'the browser still has the cookie at the new start');
  // And the appliance still knows the session then.
  const session = present(browser.cookies.get('samverka_guest'), 'the session');
  t.truthy(
    await findGuestSession(app.server.app.db, sha256(session), atNewStart),
    'the session is live at the new start',
  );
  // His link, too, lasts until two hours after the new end: from another device he can still come in.
  const newEnd = atNewStart.getTime() + meeting.durationMinutes * 60_000;
  const link = present(await findLink(app.server.app.db, path.slice(3)), 'the link');
  t.is(link.expiresAt.getTime(), newEnd + 120 * 60_000);
});

test('a guest who drops out of an overrunning meeting gets back in while its room is open, however long ROOM_GRACE_MINUTES keeps it', async (t) => {
  // Rooms that stay open four hours after the end: the link and the session last as long.
  const late = await startServer({ env: { SMTP_URL: relay.url, REMINDER_OFFSETS: 'none', ROOM_GRACE_MINUTES: '240' } });
  try {
    const { client } = await loggedIn(late);
    const { meeting, path } = await bookWithOlle(client);
    const browser = late.client();
    t.is((await olleEnters(browser, path)).status, 200);
    const end = new Date(meeting.startsAt).getTime() + meeting.durationMinutes * 60_000;
    const roomCloses = new Date(end + 240 * 60_000);
    const link = present(await findLink(late.server.app.db, path.slice(3)), 'the link');
    t.is(link.expiresAt.getTime(), roomCloses.getTime());
    const session = present(browser.cookies.get('samverka_guest'), 'the session');
    t.truthy(
      await findGuestSession(late.server.app.db, sha256(session), new Date(roomCloses.getTime() - 60_000)),
      'the session is live a minute before the room closes',
    );
  } finally {
    await late.stop();
  }
});

/** The clinician takes the meeting's guest (the second participant) off the meeting. */
const takeOffGuest = (client: Client, meeting: { id: string; version: number; participants: { id: string }[] }) =>
  client.request(
    'DELETE',
    `/api/v1/meetings/${meeting.id}/participants/${present(meeting.participants[1], 'the guest, booked').id}?version=${meeting.version}`,
    { headers: { 'x-csrf-token': client.crumb! } },
  );

/** Olle has come in two days ahead and sits in the waiting room, its page listening to the room. */
async function olleWaiting() {
  const { client } = await loggedIn(app);
  const { meeting, path } = await bookWithOlle(client, inDays(2));
  const browser = app.client();
  await olleEnters(browser, path);
  const stream = await eventStream(browser, '/entry/waiting/events');
  await stream.read(/event: room\n/);
  return { client, meeting, browser, stream };
}

test('a guest in the waiting room hears at once that the meeting was cancelled', async (t) => {
  const { client, meeting, browser, stream } = await olleWaiting();
  t.regex(stream.received, /"open":false,"ended":false/);
  const cancelled = await client.request('POST', `/api/v1/meetings/${meeting.id}/cancel`, {
    json: { version: meeting.version, reason: 'Patienten är inlagd' },
  });
  t.is(cancelled.status, 200);
  // What the waiting room tells next: the meeting is off (not, at the old opening time, that the room opened).
  const told = await Promise.race([
    stream.read(/"cancelled":true/).then(() => true),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), 10_000).unref()),
  ]);
  stream.close();
  t.true(told, 'the waiting room says the meeting is cancelled');
  // The page reloads into the page that says it.
  const page = await browser.get('/entry/waiting');
  t.is(page.status, 410);
  t.regex(page.text, /Mötet är inställt/);
  // Not a dead end: whom to call, as the link page says it.
  t.regex(page.text, /Kontakta Barn- och ungdomsmedicin på <a class="phone" href="tel:0101234567">010-123 45 67<\/a>/);
});

test('a guest in the waiting room who is taken off the meeting hears it at once', async (t) => {
  const { client, meeting, browser, stream } = await olleWaiting();
  const removed = await takeOffGuest(client, meeting);
  t.is(removed.status, 200, removed.text);
  await stream.read(/"cancelled":true/);
  stream.close();
  t.regex(stream.received, /"cancelled":true/);
  const page = await browser.get('/entry/waiting');
  t.is(page.status, 410);
  t.regex(page.text, /Kontakta Barn- och ungdomsmedicin på <a class="phone" href="tel:0101234567">010-123 45 67<\/a>/);
});

test('a guest in the waiting room when the meeting is moved is shown the new time', async (t) => {
  const { client, meeting, browser, stream } = await olleWaiting();
  const startsAt = inDays(5);
  const moved = await client.request('PATCH', `/api/v1/meetings/${meeting.id}`, {
    json: { version: meeting.version, startsAt },
  });
  t.is(moved.status, 200, moved.text);
  // The page reloads (not, at the old opening time, that the room opened) and waits for the new time.
  await stream.read(/"moved":true/);
  stream.close();
  t.regex(stream.received, /"open":false,"ended":false,"moved":true/);
  t.is(await opensOn(browser), startsAt.slice(0, 10));
});

test('a guest booked in English who is taken off the meeting is told so in English', async (t) => {
  const { client } = await loggedIn(app);
  const email = `john.${Math.random().toString(36).slice(2)}@school.example`;
  const meeting = (
    await client.request('POST', '/api/v1/meetings', {
      json: booking({
        participants: [
          { kind: 'patient', name: 'Sara Lind', mobile: '070-123 45 67', identification: 'sms' },
          { kind: 'guest', name: 'John Smith', email, identification: 'none', language: 'en' },
        ],
      }),
    })
  ).json();
  const path = await mailedPath(relay, email);
  const browser = app.client();
  t.is((await olleEnters(browser, path, 'John Smith')).status, 200);
  const removed = await takeOffGuest(client, meeting);
  t.is(removed.status, 200, removed.text);
  // His next page, and his link opened again, speak his language.
  const next = await browser.get('/entry');
  t.is(next.status, 410);
  // The meeting goes on without him: his link no longer holds, as the link itself says (not "cancelled").
  t.regex(next.text, /The link is no longer valid/);
  t.notRegex(next.text, /The meeting is cancelled/);
  const link = await app.client().get(path, { 'user-agent': chrome });
  t.is(link.status, 410);
  t.regex(link.text, /The link is no longer valid/);
});
