// The meeting page in Chromium, with a stand-in for Jitsi's `external_api.js` (test/helpers/jitsi.ts)
// that records the options the page gives JitsiMeetExternalAPI and lets the test fire its events.
import test from 'ava';
import type { Page } from 'puppeteer-core';
import { verifyToken } from '../../appliance/src/rooms/jitsi.ts';
import { fill, press, type TestBrowser } from '../helpers/browser.ts';
import type { Relay } from '../helpers/relay.ts';
import { passStaffTechTest, passTechTest } from '../helpers/techtest.ts';
import { testPassword, type TestServer } from '../helpers/server.ts';
import { jwtSecret, useStage } from '../helpers/stage.ts';
import { present } from '../helpers/present.ts';
import { mailedLink, until } from '../helpers/wait.ts';
import type { JitsiMessage } from '../helpers/jitsi.ts';
import { bookStartingIn, staffInRoom } from './_booking.ts';

let jitsiUrl: string;
let relay: Relay;
let app: TestServer;
let chromium: TestBrowser;
useStage({ relay: true, jitsi: true, browser: true }, (stage) => {
  ({ relay, app, chromium } = stage);
  jitsiUrl = stage.jitsi.url;
});

/** A meeting in ten minutes with the patient (by SMS) and a teacher invited by e-mail: her link from the mail. */
async function book() {
  const email = `lena.${Math.random().toString(36).slice(2)}@skola.example`;
  const { staff, meeting } = await bookStartingIn(app, 10, [
    { kind: 'patient', name: 'Sara Lind', mobile: '070-123 45 67', identification: 'sms' },
    { kind: 'guest', name: 'Lena Lärare', email, identification: 'none' },
  ]);
  const [patient, teacher] = [
    present(meeting.participants[0], 'the patient'),
    present(meeting.participants[1], 'the invited teacher'),
  ];
  return { staff, meeting, patient, teacher, link: await mailedLink(relay, email) };
}

/** The Jitsi page in the frame sends a message over the IFrame API's transport (test/helpers/jitsi.ts). */
const jitsiSends = (page: Page, message: JitsiMessage) =>
  page.evaluate((m) => (window as unknown as { __jitsiSends: (m: JitsiMessage) => boolean }).__jitsiSends(m), message);

const recorded = (page: Page) =>
  page.evaluate(
    () =>
      (window as unknown as { __jitsi: { domain: string; options: Record<string, any>; inPanel: boolean } }).__jitsi,
  );

test.serial(
  'a guest goes from the waiting room to the meeting, which starts Jitsi with this room, the token and the invited name; events reach the connection log',
  async (t) => {
    const { meeting, teacher: guest, link } = await book();
    // The tech test itself is driven in test/browser/techtest.ts and guest.ts: here it is recorded as passed.
    await passTechTest(app, { type: 'participant', id: guest.id });

    const page = await chromium.page();
    await page.goto(link);
    await fill(page, 'Ditt namn', 'Lena Lärare');
    await Promise.all([page.waitForNavigation(), press(page, 'Fortsätt')]);
    t.is(new URL(page.url()).pathname, '/entry/waiting');
    t.false(page.url().includes(present(link.split('/j/')[1], 'the token in the link')), 'no token in the address');
    // The room opens (the schedule's tick): the waiting room learns it over SSE and moves on by itself.
    await app.server.plugins.rooms.service.tick();
    await page.waitForFunction(() => location.pathname === '/entry/meeting', { timeout: 15_000 });
    await page.waitForFunction(() => 'JitsiMeetExternalAPI' in window && '__jitsi' in window);

    const { domain, options, inPanel } = await recorded(page);
    t.is(domain, new URL(jitsiUrl).host);
    t.true(inPanel, 'Jitsi is placed in the page');
    const room = (await app.server.app.db('rooms').where({ meeting_id: meeting.id }).first()).name;
    t.is(options.roomName, room);
    t.like(options, {
      userInfo: { displayName: 'Lena Lärare' },
      lang: 'sv',
      configOverwrite: { prejoinConfig: { enabled: false }, prejoinPageEnabled: false, readOnlyName: true },
    });
    const claims = await verifyToken(options.jwt, {
      appSecret: jwtSecret,
      acceptedIssuers: ['samverka'],
      acceptedAudiences: ['samverka'],
      room,
    });
    t.like(claims, {
      room,
      moderator: false,
      context: {
        user: { id: `participant:${guest.id}:main`, name: 'Lena Lärare', moderator: false, affiliation: 'member' },
      },
    });

    t.true(
      await jitsiSends(page, { name: 'camera-error', type: 'gum.permission_denied', message: 'Permission denied' }),
    );
    t.true(
      await jitsiSends(page, {
        name: 'video-conference-joined',
        roomName: room,
        id: 'abc',
        displayName: 'Lena Lärare',
      }),
    );
    const entries = async () =>
      (
        await app.server.app
          .db('connlog_entries')
          .where({ meeting_id: meeting.id, participant_id: guest.id })
          .orderBy('id')
          .select('type', 'details')
      ).map((r) => ({
        type: r.type as string,
        details: (typeof r.details === 'string' ? JSON.parse(r.details) : r.details) as Record<string, unknown>,
      }));
    const types = async () => (await entries()).map((e) => e.type);
    await until('the camera error and the join in the log', async () => {
      const logged = await types();
      return logged.includes('client_cameraError') && logged.includes('client_videoConferenceJoined');
    });

    // Her connection drops: Jitsi's page in the frame leaves the meeting, says it was a fatal error
    // (its reconnect overlay), reloads and joins again. Support reads each of it in the log.
    t.true(await jitsiSends(page, { name: 'video-conference-left', roomName: room }));
    t.true(
      await jitsiSends(page, {
        name: 'error-occurred',
        error: { name: 'conference.connectionError', message: 'Connection lost', type: 'CONNECTION', isFatal: true },
      }),
    );
    t.true(
      await jitsiSends(page, {
        name: 'video-conference-joined',
        roomName: room,
        id: 'def',
        displayName: 'Lena Lärare',
      }),
    );
    // Each event is its own request from the page: they may reach the log in another order (the
    // browser's time is kept with each), so the log is read once all have come.
    const expected = [
      'client_cameraError',
      'client_videoConferenceJoined',
      'client_videoConferenceLeft',
      'client_errorOccurred',
      'client_reconnect',
    ];
    await until(
      'every event in the log',
      async () => (await types()).filter((x) => x.startsWith('client_')).length >= 5,
    );
    const log = await entries();
    t.deepEqual(
      log
        .map((e) => e.type)
        .filter((type) => type.startsWith('client_'))
        .sort(),
      [...expected].sort(),
      'the second join is the reconnect, not another first join',
    );
    t.like(log.find((e) => e.type === 'client_videoConferenceLeft')?.details, { roomName: room });
    t.like(log.find((e) => e.type === 'client_errorOccurred')?.details, {
      errorName: 'conference.connectionError',
      type: 'CONNECTION',
      isFatal: true,
    });
    const reconnect = log.find((e) => e.type === 'client_reconnect')?.details;
    t.like(reconnect, { id: 'def', roomName: room });
    t.is(typeof reconnect?.awaySeconds, 'number', 'how long she was out of the meeting');

    await Promise.all([page.waitForNavigation(), jitsiSends(page, { name: 'video-ready-to-close' })]);
    t.is(new URL(page.url()).pathname, '/entry/evaluation', 'leaving leads to the evaluation');
    await page.close();
  },
);

test.serial(
  'staff open the room from the meeting: Jitsi with an owner token, and the participant panel follows the room live',
  async (t) => {
    const { staff, meeting, patient: sara } = await book();
    await app.server.plugins.rooms.service.tick();
    const page = await chromium.page();
    await page.goto(`${app.url}/login`);
    await fill(page, 'E-postadress', staff.email);
    await fill(page, 'Lösenord', testPassword);
    await Promise.all([page.waitForNavigation(), press(page, 'Logga in')]);
    // The first meeting after a new login starts with the technical test (driven in techtest.ts).
    await page.goto(`${app.url}/meetings/${meeting.id}/room`);
    t.is(new URL(page.url()).pathname, '/techtest');
    await passStaffTechTest(app, staff.id);
    await page.goto(`${app.url}/meetings/${meeting.id}/room`);
    await page.waitForFunction(() => '__jitsi' in window);
    const { options } = await recorded(page);
    t.like(options, { userInfo: { displayName: staff.name }, configOverwrite: { prejoinConfig: { enabled: false } } });
    t.like(
      await verifyToken(options.jwt, { appSecret: jwtSecret, acceptedIssuers: ['samverka'], room: options.roomName }),
      { moderator: true, context: { user: { affiliation: 'owner' } } },
    );

    // Someone joins (the rooms plugin reports presence from Prosody): the panel changes without a reload.
    const row = `[data-participant="${sara.id}"]`;
    t.notRegex(await page.$eval(row, (el) => el.textContent ?? ''), /Ansluten/);
    app.server.app.bus.emit('participant.status', { meetingId: meeting.id, participantId: sara.id, status: 'joined' });
    await page.waitForFunction(
      (selector) => /Ansluten/.test(document.querySelector(selector)?.textContent ?? ''),
      { timeout: 10_000 },
      row,
    );
    t.pass();

    // Leaving the meeting (Jitsi's readyToClose) leads staff to their evaluation of it.
    await Promise.all([page.waitForNavigation(), jitsiSends(page, { name: 'video-ready-to-close' })]);
    t.is(new URL(page.url()).pathname, `/evaluation/meeting/${meeting.id}`);
    await page.goto(`${app.url}/meetings/${meeting.id}/room`);

    // Ending for everyone needs the confirmation, found by its label.
    await page.locator('::-p-aria(Ja, avsluta mötet för alla)').click();
    await Promise.all([page.waitForNavigation(), press(page, 'Avsluta mötet för alla')]);
    t.is(new URL(page.url()).pathname, `/meetings/${meeting.id}`);
    t.is((await app.server.app.db('meetings').where({ id: meeting.id }).first()).status, 'ended');
    await page.close();
  },
);

test.serial(
  'staff in the video call keep their session though they click nothing: the panel counts as their doing while they are in the call, not after',
  async (t) => {
    const { staff, meeting, patient: sara, teacher } = await book();
    await app.server.plugins.rooms.service.tick();
    const { page, context } = await staffInRoom(app, chromium, staff, meeting.id);
    await page.waitForFunction(() => '__jitsi' in window);
    // A third of the 30 minutes' idle limit, at most a minute.
    t.is(await page.$eval('[data-live-panel]', (el) => (el as HTMLElement).dataset.keepAliveMs), '60000');

    const session = () => app.server.app.db('staff_sessions').where({ staff_id: staff.id });
    /** The person's last activity as if it were 25 minutes ago (the limit is 30). */
    const longAgo = new Date(Date.now() - 25 * 60_000);
    // The browser's session: the latest (the booking was made in one of the clinician's own before).
    const seenAt = async () =>
      new Date((await session().orderBy('created_at', 'desc').first()).seen_at as string).getTime();
    /** A participant's status changes: the panel asks for itself again; its request, as it went. */
    const panelRefresh = async (participantId: string, status: 'joined' | 'left') => {
      // Until the panel's event stream is open, an event reaches nobody: told again each second.
      for (;;) {
        const refreshed = page
          .waitForResponse((r) => r.url().endsWith(`/meetings/${meeting.id}/room/panel`), { timeout: 1000 })
          .catch(() => undefined);
        app.server.app.bus.emit('participant.status', { meetingId: meeting.id, participantId, status });
        const response = await refreshed;
        if (response) return response.request();
      }
    };

    // Not in the call (the video has not joined): the panel's refresh is the page's, not the person's.
    await session().update({ seen_at: longAgo.toISOString() });
    t.is((await panelRefresh(sara.id, 'joined')).headers()['x-live-refresh'], 'true');
    await app.server.app.groupCommit.settled();
    t.is(await seenAt(), longAgo.getTime());

    // In the call: the same refresh is the person at work, and their session goes on.
    await jitsiSends(page, { name: 'video-conference-joined', roomName: 'r', id: 'me', displayName: staff.name });
    t.is((await panelRefresh(teacher.id, 'joined')).headers()['x-live-refresh'], undefined);
    await until('the session seen again', async () => (await seenAt()) > longAgo.getTime());

    // Out of the call again: not any more. Leaving it is the person's own doing: its report to the
    // connection log goes first, as such (it is waited for, or it could land after the move back).
    const leaveReported = page.waitForResponse((r) => r.url().endsWith('/connlog/events'));
    await jitsiSends(page, { name: 'video-conference-left', roomName: 'r' });
    t.is((await leaveReported).request().headers()['x-live-refresh'], undefined);
    await app.server.app.groupCommit.settled();
    await session().update({ seen_at: longAgo.toISOString() });
    t.is((await panelRefresh(sara.id, 'left')).headers()['x-live-refresh'], 'true');
    await app.server.app.groupCommit.settled();
    t.is(await seenAt(), longAgo.getTime());
    await context.close();
  },
);
