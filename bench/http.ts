// The staff side under load, the appliance as its own process beside the baseline process:
// - booking a meeting with four participants (the clinician and three invited), 50 connections;
// - a clinician's week in a realistic calendar: 20 clinicians, each with a care unit of their own,
//   10 meetings a week over 5 weeks (1,000 meetings in the database, 10 in the week shown), as
//   the calendar page (HTML) and as the API list (JSON);
// - the worst case beside it: all 1,000 meetings in one unit's one week;
// - an authenticated GET /api/v1/me, the lightest staff request.
// Invitations go to an SMSC and an SMTP server in processes of their own; the outbox is drained
// before the measuring starts and after each round of bookings.
import { addDays, fromClinicTime, mondayOf, today } from '../appliance/src/common/clock.ts';
import { Client } from '../test/helpers/server.ts';
import {
  book,
  connections,
  drained,
  interleaved,
  isMain,
  judge,
  measure,
  percent,
  prepareData,
  rounds,
  seconds,
  showSpread,
  spread,
  startAppliance,
  startBaseline,
  startSink,
  table,
  type HttpCase,
  type Measurement,
} from './harness.ts';

const clinicians = 20;
const weeks = 5;
const perWeek = 10;
const worstCase = clinicians * weeks * perWeek;

/** The three people a clinician invites, as the routine has them: patient by SMS, teacher by e-mail, social worker by SMS. */
const invited = (n: number) => [
  { kind: 'patient', name: `Patient ${n}`, mobile: '070-123 45 67', identification: 'sms' },
  { kind: 'guest', name: 'Lärare Eva Ek', email: `eva.ek.${n}@skola.example`, identification: 'none' },
  { kind: 'guest', name: 'Olle Socialsekreterare', mobile: '0761234567', identification: 'sms' },
];
const meeting = (n: number, startsAt: Date) => ({
  title: `Samordnad planering ${n}`,
  startsAt: startsAt.toISOString(),
  durationMinutes: 30,
  documentationPlan: 'Journal',
  participants: invited(n),
});

async function sessionCookie(url: string, email: string, password: string): Promise<string> {
  const client = new Client(url);
  const reply = await client.login(email, password);
  if (reply.status !== 302) throw new Error(`login failed: ${reply.status}`);
  return [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
}

export async function run(): Promise<void> {
  const [smsc, smtp] = await Promise.all([startSink('smsc'), startSink('smtp')]);
  const sinks = { SMPP_URL: smsc.url, SMTP_URL: smtp.url, SMPP_THROTTLE: '10000' };
  const realisticData = await prepareData(sinks, clinicians);
  const worstData = await prepareData(sinks, 1);
  const baseline = await startBaseline();
  const realistic = await startAppliance(realisticData);
  const worst = await startAppliance(worstData);
  try {
    // The weeks start next Monday, so that nothing is booked in the past.
    const firstMonday = mondayOf(addDays(today(), 7));
    // The k-th meeting of a week: weekdays in turn, from 08:00 on, `minutes` apart, 40 a day at most.
    const slot = (monday: string, k: number, minutes: number) =>
      new Date(fromClinicTime(addDays(monday, k % 5), '08:00').getTime() + (Math.floor(k / 5) % 40) * minutes * 60_000);
    const realisticBookings = realisticData.tokens.flatMap((token, c) =>
      Array.from({ length: weeks * perWeek }, (_, i) => ({
        token,
        body: meeting(c * 1000 + i, slot(addDays(firstMonday, 7 * Math.floor(i / perWeek)), i % perWeek, 60)),
      })),
    );
    const worstBookings = Array.from({ length: worstCase }, (_, i) => ({
      token: worstData.tokens[0],
      body: meeting(i, slot(firstMonday, i, 12)),
    }));
    const started = performance.now();
    await Promise.all([book(realistic.url, realisticBookings), book(worst.url, worstBookings)]);
    await drained([smsc, smtp]);
    process.stdout.write(
      `\n(${realisticBookings.length + worstBookings.length} meetings booked through the API and their invitations sent in ${((performance.now() - started) / 1000).toFixed(0)} s)\n`,
    );

    const shownMonday = addDays(firstMonday, 14);
    const period = (monday: string) =>
      `from=${encodeURIComponent(fromClinicTime(monday).toISOString())}&to=${encodeURIComponent(fromClinicTime(addDays(monday, 7)).toISOString())}`;
    const one = realisticData.clinicians[0];
    const realisticCookie = await sessionCookie(realistic.url, one.email, one.password);
    const worstCookie = await sessionCookie(worst.url, worstData.clinicians[0].email, worstData.clinicians[0].password);
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    // Bookings under load go two months ahead, out of every measured week.
    const later = new Date(Date.now() + 60 * 86_400_000);
    const bookingCase: HttpCase = {
      method: 'POST',
      path: '/api/v1/meetings',
      headers: { ...bearer(realisticData.tokens[1]), 'content-type': 'application/json' },
      body: JSON.stringify(meeting(0, later)),
    };

    type Row = { target: 'baseline' | 'realistic' | 'worst'; c: HttpCase };
    const cases: Record<string, Row> = {
      baseline: { target: 'baseline', c: { path: '/' } },
      calendarPage: {
        target: 'realistic',
        c: { path: `/calendar?view=week&date=${shownMonday}`, headers: { cookie: realisticCookie } },
      },
      calendarApi: {
        target: 'realistic',
        c: { path: `/api/v1/meetings?${period(shownMonday)}`, headers: bearer(realisticData.tokens[0]) },
      },
      worstPage: {
        target: 'worst',
        c: { path: `/calendar?view=week&date=${firstMonday}`, headers: { cookie: worstCookie } },
      },
      worstApi: {
        target: 'worst',
        c: { path: `/api/v1/meetings?${period(firstMonday)}`, headers: bearer(worstData.tokens[0]) },
      },
      me: { target: 'realistic', c: { path: '/api/v1/me', headers: bearer(realisticData.tokens[2]) } },
      booking: { target: 'realistic', c: bookingCase },
    };
    const urls = { baseline: baseline.url, realistic: realistic.url, worst: worst.url };
    const steps = Object.fromEntries(
      Object.entries(cases).map(([name, { target, c }]) => [
        name,
        async () => {
          const m = await measure(urls[target], c);
          // What a round of bookings sent is out of the way before the next measurement.
          if (name === 'booking') await drained([smsc, smtp]);
          return m;
        },
      ]),
    ) as Record<keyof typeof cases, () => Promise<Measurement>>;
    const results = await interleaved(steps);

    const base = spread(results.baseline.map((m) => m.rps));
    const ratio = (name: keyof typeof cases) => spread(results[name].map((m, i) => m.rps / results.baseline[i].rps));
    const labels: Record<keyof typeof cases, string> = {
      baseline: 'empty hapi route, separate process (baseline)',
      calendarPage: `GET /calendar?view=week: a clinician's week, ${perWeek} of ${clinicians * weeks * perWeek} meetings (HTML)`,
      calendarApi: 'GET /api/v1/meetings: the same week (JSON)',
      worstPage: `GET /calendar?view=week: all ${worstCase} meetings in the week shown (HTML)`,
      worstApi: 'GET /api/v1/meetings: the same week (JSON)',
      me: 'GET /api/v1/me (bearer token)',
      booking: 'POST /api/v1/meetings: book with 3 invited (4 participants)',
    };
    table(
      `Staff requests, ${connections} connections, ${seconds} s each, ${rounds} interleaved rounds: median (min–max)`,
      ['case', 'req/s', 'p99 ms', 'rate ÷ baseline', 'errors'],
      Object.keys(cases).map((name) => [
        labels[name],
        showSpread(spread(results[name].map((m) => m.rps)), '', 0),
        showSpread(spread(results[name].map((m) => m.p99)), '', 0),
        name === 'baseline' ? '1' : showSpread(ratio(name), '', 3),
        results[name].reduce((n, m) => n + m.errors, 0),
      ]),
    );

    const booking = ratio('booking');
    const p99 = spread(results.booking.map((m) => m.p99));
    const errors = results.booking.reduce((n, m) => n + m.errors, 0);
    judge(
      `booking (4 participants), ${connections} connections: rate`,
      '≥ 5 % of the empty route',
      `${percent(booking.median)} (${percent(booking.min)}–${percent(booking.max)}); baseline ${base.median.toFixed(0)} req/s`,
      booking.median >= 0.05 && errors === 0,
    );
    judge(
      `booking (4 participants), ${connections} connections: p99`,
      '≤ 60 ms',
      showSpread(p99, ' ms', 0),
      p99.median <= 60,
    );
    for (const [name, label] of [
      ['calendarPage', 'HTML page'],
      ['calendarApi', 'API list'],
    ] as const) {
      const r = ratio(name);
      judge(
        `one clinician's week (${perWeek} of 1,000 meetings): ${label}`,
        '≥ 30 % of the empty route',
        `${percent(r.median)} (${percent(r.min)}–${percent(r.max)})`,
        r.median >= 0.3,
      );
    }
    for (const [name, label] of [
      ['worstPage', 'HTML page'],
      ['worstApi', 'API list'],
    ] as const) {
      const r = ratio(name);
      judge(
        `worst case, all 1,000 meetings in the week: ${label}`,
        'no goal',
        `${percent(r.median, 2)} (${percent(r.min, 2)}–${percent(r.max, 2)})`,
      );
    }
  } finally {
    await Promise.all([baseline.stop(), realistic.stop(), worst.stop()]);
    await Promise.all([smsc.close(), smtp.close()]);
    realisticData.remove();
    worstData.remove();
  }
}

if (isMain(import.meta.url)) await run();
