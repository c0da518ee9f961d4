// Support searches the connection logs by days on the clinic's clock: a meeting at half past
// midnight in Stockholm is that day's meeting, though the evening before in UTC.
import test from 'ava';
import { addDays, fromClinicTime, today } from '../../appliance/src/common/clock.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { booking, loggedIn } from '../meetings/_booking.ts';
import { searchLog } from './_search.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer({ env: { REMINDER_OFFSETS: 'none' } });
});
test.after.always(() => app?.stop());

test("a search for a day finds the meeting at 00:30 that day on the clinic's clock, and not the evening before", async (t) => {
  const { client } = await loggedIn(app, 'clinician');
  const day = addDays(today(), 2);
  const reply = await client.request('POST', '/api/v1/meetings', {
    json: booking({
      startsAt: fromClinicTime(day, '00:30').toISOString(),
      participants: [{ kind: 'patient', name: 'Natt Nattsson', mobile: '0701112299', identification: 'sms' }],
    }),
  });
  t.is(reply.status, 201);
  const { client: support } = await loggedIn(app, 'support');
  const { page: onTheDay } = await searchLog(support, { from: day, to: day, name: 'Natt' });
  t.is(onTheDay.status, 200);
  t.true(onTheDay.text.includes('Natt Nattsson'), 'found on its own day');
  const before = addDays(day, -1);
  const { page: dayBefore } = await searchLog(support, { from: before, to: before, name: 'Natt' });
  t.false(dayBefore.text.includes('Natt Nattsson'), 'not on the day before');
});

test('a search covers at most 92 days after its first, and ends after it begins', async (t) => {
  const { client: support } = await loggedIn(app, 'support');
  const day = today();
  const period = async (from: string, to: string) => (await searchLog(support, { from, to })).page.status;
  t.is(await period(day, addDays(day, 92)), 200);
  t.is(await period(day, addDays(day, 93)), 400);
  t.is(await period(day, addDays(day, -1)), 400);
  t.is(await period(day, day), 200);
});
