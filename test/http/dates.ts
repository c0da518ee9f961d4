// One strict reading of dates for every input: ISO 8601 with an explicit offset, a date that exists
// in the calendar, a year that makes sense for a meeting; the calendar's day and week likewise.
import test from 'ava';
import { lookupYears, meetingYears, readDay, readInstant } from '../../appliance/src/http/dates.ts';
import { countRows } from '../helpers/databases.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { booking, countMeetings, inDays, loggedIn } from '../meetings/_booking.ts';

const year = new Date().getUTCFullYear();

test('an instant needs an offset, a real date and a year in range', (t) => {
  t.deepEqual(readInstant('2030-03-04T09:00:00+01:00', meetingYears()), new Date('2030-03-04T08:00:00Z'));
  t.deepEqual(readInstant('2030-03-04T09:00Z'), new Date('2030-03-04T09:00:00Z'));
  t.deepEqual(readInstant('2030-03-04T09:00:00.250-05:00'), new Date('2030-03-04T14:00:00.250Z'));
  t.is(readInstant('2030-01-01'), 'format', 'no time, no offset');
  t.is(readInstant('2030-01-01T10:00:00'), 'format', 'a time without an offset');
  t.is(readInstant('2030-01-01 10:00:00Z'), 'format');
  t.is(readInstant('+002030-01-01T10:00:00Z'), 'format');
  t.is(readInstant('2030-02-30T10:00:00Z'), 'calendar', '30 February');
  t.is(readInstant('2031-02-29T10:00:00Z'), 'calendar', 'no leap day in 2031');
  t.is(readInstant('2030-01-01T24:00:00Z'), 'calendar');
  t.is(readInstant('2030-01-01T10:00:60Z'), 'calendar');
  t.is(readInstant('2030-01-01T10:00:00+15:00'), 'calendar');
  t.is(readInstant('9999-12-31T23:00:00Z', meetingYears()), 'years');
  t.is(readInstant(`${year + 11}-01-01T10:00:00Z`, meetingYears()), 'years');
  t.is(readInstant(`${year - 1}-12-31T10:00:00Z`, meetingYears()), 'years');
  t.true(readInstant(`${year + 10}-12-31T10:00:00Z`, meetingYears()) instanceof Date);
});

test('a day is YYYY-MM-DD and exists', (t) => {
  t.is(readDay('2028-02-29', lookupYears()), '2028-02-29');
  t.is(readDay('0000-00-00', lookupYears()), 'calendar');
  t.is(readDay('9999-12-31', lookupYears()), 'years');
  t.is(readDay('1999-12-31', lookupYears()), 'years');
  t.is(readDay('2030-1-1'), 'format');
  t.is(readDay('2030-04-31'), 'calendar');
});

let app: TestServer;
test.before(async () => {
  app = await startServer({ env: { REMINDER_OFFSETS: 'none' } });
});
test.after.always(() => app?.stop());

// Serial: it counts every meeting and message, so nothing else may book meanwhile.
test.serial('a booking at an impossible or unreadable time is refused and nothing is stored or sent', async (t) => {
  const { client } = await loggedIn(app);
  const before = await countMeetings(app);
  const messagesBefore = await countRows(app.server.app.db('outbox_messages'));
  for (const startsAt of [
    '2030-02-30T10:00:00Z',
    '2030-01-01',
    '2030-01-01T10:00:00',
    '9999-12-31T23:00:00Z',
    '0000-00-00T00:00:00Z',
    'i morgon',
  ]) {
    const reply = await client.request('POST', '/api/v1/meetings', {
      json: booking({ startsAt }),
      headers: { 'accept-language': 'en' },
    });
    t.is(reply.status, 400, startsAt);
    t.regex(reply.json().message, /startsAt must be/, startsAt);
  }
  t.is(await countMeetings(app), before);
  t.is(await countRows(app.server.app.db('outbox_messages')), messagesBefore, 'no SMS names a day that does not exist');
});

test('moving a meeting to an impossible time is refused and the meeting keeps its time', async (t) => {
  const { client } = await loggedIn(app);
  const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json();
  const moved = await client.request('PATCH', `/api/v1/meetings/${meeting.id}`, {
    json: { version: meeting.version, startsAt: '2030-02-30T10:00:00+01:00' },
  });
  t.is(moved.status, 400);
  t.is((await client.get(`/api/v1/meetings/${meeting.id}`)).json().startsAt, meeting.startsAt);
  const page = await client.submit(
    `/meetings/${meeting.id}/reschedule`,
    { version: String(meeting.version), date: '2030-02-30', time: '10:00', durationMinutes: '45', confirm: 'yes' },
    `/meetings/${meeting.id}`,
  );
  t.is(page.status, 400);
  t.is((await client.get(`/api/v1/meetings/${meeting.id}`)).json().startsAt, meeting.startsAt);
});

test('the calendar and the meetings list refuse days that do not exist, with a 400 and not a 500', async (t) => {
  const { client } = await loggedIn(app);
  for (const query of [
    'date=0000-00-00',
    'date=9999-12-31',
    'view=week&date=2030-02-30',
    'view=week&date=99999-01-01',
  ]) {
    t.is((await client.get(`/calendar?${query}`)).status, 400, query);
  }
  t.is((await client.get(`/calendar?view=week&date=${inDays(1).slice(0, 10)}`)).status, 200);
  const list = await client.request('GET', '/api/v1/meetings?from=2030-01-01&to=2030-02-30T00:00:00Z', {
    headers: { 'accept-language': 'en' },
  });
  t.is(list.status, 400);
  t.regex(list.json().message, /from must be a date and time in ISO 8601 with an offset/);
});
