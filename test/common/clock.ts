// The clinic's clock: Swedish wall-clock time (Europe/Stockholm) against UTC instants, summer
// time included. The calendar's days place many meetings by one offset per day; they must read
// exactly what the clock does, also on the nights the clock is put forward or back.
import test from 'ava';
import { ClinicDays, formatDay, fromClinicTime, today, toClinicTime } from '../../appliance/src/common/clock.ts';

/** Every quarter of an hour through the days, read by ClinicDays and by the clock itself. */
function readsAlike(t: import('ava').ExecutionContext, first: string, count: number) {
  const days = new ClinicDays(first, count);
  t.is(days.dates.length, count);
  t.deepEqual(days.from, fromClinicTime(first));
  for (let at = days.from.getTime(); at < days.to.getTime(); at += 15 * 60_000) {
    const instant = new Date(at);
    const clock = toClinicTime(instant);
    t.is(days.dates[days.dayOf(instant)], clock.date, instant.toISOString());
    t.is(days.time(instant), clock.time, instant.toISOString());
  }
  t.is(days.dayOf(new Date(days.to.getTime())), -1, 'the end is outside');
  t.is(days.dayOf(new Date(days.from.getTime() - 1)), -1, 'and so is the moment before the start');
}

test('a week in winter and one in summer are read as the clock reads them', (t) => {
  readsAlike(t, '2027-01-11', 7);
  readsAlike(t, '2027-07-05', 7);
});

test('the weeks the clock is put forward (March) and back (October) are read exactly', (t) => {
  readsAlike(t, '2027-03-22', 7);
  readsAlike(t, '2027-10-25', 7);
  const march = new ClinicDays('2027-03-28', 1);
  // 23 hours that Sunday: 02:00 becomes 03:00.
  t.is(march.to.getTime() - march.from.getTime(), 23 * 3_600_000);
  t.is(march.time(new Date('2027-03-28T01:00:00Z')), '03:00');
});

test("a meeting's end after the last day is still read on the clinic's clock", (t) => {
  const day = new ClinicDays('2027-01-11', 1);
  t.is(day.time(fromClinicTime('2027-01-12', '00:30')), '00:30');
});

test('a day is named in Swedish and in English', (t) => {
  t.is(formatDay('2027-03-02', 'sv'), 'tisdag 2 mars 2027');
  t.is(formatDay('2027-03-02', 'en'), 'Tuesday, 2 March 2027');
});

test("today is the clinic's date: it turns at the clinic's midnight, also back and forth in time", (t) => {
  const realNow = Date.now;
  const at = (date: string, time: string, ms = 0) => (Date.now = () => fromClinicTime(date, time).getTime() + ms);
  try {
    at('2026-07-01', '23:59', 59_999); // 21:59:59.999 UTC, summer time
    t.is(today(), '2026-07-01');
    at('2026-07-02', '00:00');
    t.is(today(), '2026-07-02');
    at('2026-03-29', '12:00'); // the day the clock is put forward: 23 hours long
    t.is(today(), '2026-03-29');
    at('2026-03-29', '23:59', 59_999);
    t.is(today(), '2026-03-29');
    at('2026-03-30', '00:00');
    t.is(today(), '2026-03-30');
    at('2026-07-01', '08:00'); // back in time
    t.is(today(), '2026-07-01');
  } finally {
    Date.now = realNow;
  }
  t.is(today(), toClinicTime(new Date()).date);
});
