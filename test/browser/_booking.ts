// Booking as the browser tests' routines start: a clinician books through the API a meeting that
// starts a given number of minutes from now, so that its room opens (or the five-minute rule
// fires) within the test.
import type { BrowserContext, Page } from 'puppeteer-core';
import { booking, loggedIn } from '../meetings/_booking.ts';
import { fill, press, type TestBrowser } from '../helpers/browser.ts';
import { present } from '../helpers/present.ts';
import { testPassword, type TestServer } from '../helpers/server.ts';
import { passStaffTechTest } from '../helpers/techtest.ts';

/** The booked meeting as the API answers it: the participants in the order they were booked. */
export interface BookedMeeting {
  id: string;
  participants: { id: string; email: string | null; mobile: string | null }[];
}

/** A clinician books a meeting with `participants` starting `minutes` from now, on the minute. */
export async function bookStartingIn(app: TestServer, minutes: number, participants: Record<string, unknown>[]) {
  const { client, staff } = await loggedIn(app);
  const startsAt = new Date(Date.now() + minutes * 60_000);
  startsAt.setUTCSeconds(0, 0);
  const reply = await client.request('POST', '/api/v1/meetings', {
    json: booking({ startsAt: startsAt.toISOString(), participants }),
  });
  if (reply.status !== 201) throw new Error(`booking failed: ${reply.status} ${reply.text}`);
  return { client, staff, startsAt, meeting: reply.json<BookedMeeting>() };
}

/** The id of the meeting whose page is open (/meetings/<id>), as the address shows it. */
export const meetingIdOf = (page: Page) =>
  present(new URL(page.url()).pathname.split('/').pop(), `a meeting id in ${page.url()}`);

/**
 * The clinician at their own computer (a browser context of their own, with its own cookies) logs
 * in, has passed the session's technical test, and opens the meeting's room.
 */
export async function staffInRoom(
  app: TestServer,
  chromium: TestBrowser,
  staff: { email: string },
  meetingId: string,
): Promise<{ page: Page; context: BrowserContext }> {
  const context = await chromium.browser.createBrowserContext();
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(`${app.url}/login`);
  await fill(page, 'E-postadress', staff.email);
  await fill(page, 'Lösenord', testPassword);
  await Promise.all([page.waitForNavigation(), press(page, 'Logga in')]);
  const { id } = await app.server.app.db('staff').where({ email: staff.email }).first('id');
  await passStaffTechTest(app, id as string);
  await page.goto(`${app.url}/meetings/${meetingId}/room`);
  return { page, context };
}
