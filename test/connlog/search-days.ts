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

test('a search with only its first day, or only its last, covers the four weeks from or up to it: no refusal for a period not typed', async (t) => {
  const { client } = await loggedIn(app, 'clinician');
  const day = addDays(today(), 40);
  const reply = await client.request('POST', '/api/v1/meetings', {
    json: booking({
      startsAt: fromClinicTime(day, '10:00').toISOString(),
      participants: [{ kind: 'patient', name: 'Ensam Datumsson', mobile: '0701112288', identification: 'sms' }],
    }),
  });
  t.is(reply.status, 201);
  const { client: support } = await loggedIn(app, 'support');
  for (const fields of [{ from: addDays(day, -3) }, { to: addDays(day, 3) }, { from: addDays(day, -27) }] as Record<
    string,
    string
  >[]) {
    const { posted, page } = await searchLog(support, { ...fields, name: 'Datumsson' });
    t.is(posted.status, 303, JSON.stringify(fields));
    t.true(page.text.includes('Ensam Datumsson'), JSON.stringify(fields));
  }
  // The form shows the period searched, the day not typed filled in.
  const { page } = await searchLog(support, { from: addDays(day, -3), name: 'Datumsson' });
  t.regex(page.text, new RegExp(`name="to" value="${addDays(day, 25)}"`));
  const { page: later } = await searchLog(support, { from: addDays(day, 1), name: 'Datumsson' });
  t.false(later.text.includes('Ensam Datumsson'));
});
