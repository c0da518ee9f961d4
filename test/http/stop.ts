// A stop (SIGTERM from systemd or `docker compose stop`) while pages are open: a guest in the
// waiting room, a clinician on the meeting page with its room panel, the calendar. Their event
// streams never end by themselves; the stop must end them, or it waits out its whole timeout
// (10 s in start.ts, as long as Docker waits before SIGKILL) whenever anybody has a page open.
import test from 'ava';
import { booking, inDays, loggedIn } from '../meetings/_booking.ts';
import { startRelay } from '../helpers/relay.ts';
import { eventStream, startServer } from '../helpers/server.ts';
import { mailedPath } from '../helpers/wait.ts';

const chrome = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
/** Far beyond the stop's own 10 s: a stream the stop does not end keeps it waiting past this. */
const stopTimeoutMs = 60_000;
/** Well below stopTimeoutMs: a stream still open by then was left for the timeout to cut. */
const streamLimitMs = 20_000;

test('a stop ends every open event stream itself, and does not wait for the browsers to leave', async (t) => {
  const relay = await startRelay();
  const app = await startServer({ env: { SMTP_URL: relay.url, REMINDER_OFFSETS: 'none' } });
  let stopping: Promise<void> | undefined;
  t.teardown(async () => {
    await stopping;
    await app.stop();
    await relay.close();
  });
  const { client } = await loggedIn(app);
  const email = 'olle.socialsekreterare@kommun.example';
  const meeting = (
    await client.request('POST', '/api/v1/meetings', {
      json: booking({
        startsAt: inDays(2),
        participants: [{ kind: 'guest', name: 'Olle Socialsekreterare', email, identification: 'none' }],
      }),
    })
  ).json();
  const path = await mailedPath(relay, email);
  const browser = app.client();
  await browser.get(path, { 'user-agent': chrome });
  const entered = await browser.request('POST', '/j', {
    form: { crumb: browser.crumb ?? '', token: path.slice(3), name: 'Olle Socialsekreterare' },
    headers: { 'user-agent': chrome },
  });
  t.is(entered.status, 200, entered.text);

  const pages = {
    'the waiting room': await eventStream(browser, '/entry/waiting/events'),
    'the meeting page': await eventStream(client, `/meetings/${meeting.id}/events`),
    'the room panel': await eventStream(client, `/meetings/${meeting.id}/room/events`),
    'the calendar': await eventStream(client, '/calendar/events'),
  };
  for (const [page, stream] of Object.entries(pages)) {
    t.is(stream.res.status, 200, page);
    await stream.read(/^retry: \d+\n\n/);
  }

  stopping = app.server.stop({ timeout: stopTimeoutMs });
  const ended = await Promise.all(
    Object.entries(pages).map(async ([page, stream]) => {
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<string>(
        (resolve) => (timer = setTimeout(resolve, streamLimitMs, `${page}: still open`)),
      );
      const end = stream
        .read(/(?!)/) // never matches: reads until the server ends the stream
        .then(() => `${page}: ended`)
        .catch((error: unknown) => `${page}: cut (${String(error)})`);
      try {
        return await Promise.race([end, limit]);
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  t.deepEqual(
    ended,
    Object.keys(pages).map((page) => `${page}: ended`),
  );
  await stopping;
});
