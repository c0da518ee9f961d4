// Booking as the browser tests' routines start: a clinician books through the API a meeting that
// starts a given number of minutes from now, so that its room opens (or the five-minute rule
// fires) within the test.
import { booking, loggedIn } from '../meetings/_booking.ts';
import type { TestServer } from '../helpers/server.ts';

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
