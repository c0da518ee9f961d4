// The staff side under load, the appliance as its own process beside the baseline process:
// - booking a meeting with four participants (the clinician and three invited), 50 connections,
//   into the realistic calendar of bench/calendar.ts (1,000 meetings already booked);
// - an authenticated GET /api/v1/me, the lightest staff request.
// The calendar itself is measured by bench/calendar.ts. Invitations go to an SMSC and an SMTP
// server in processes of their own; the outbox is drained before the measuring starts and after
// each round of bookings.
import { clinicians, meeting, realisticBookings } from './calendar.ts';
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

export async function run(): Promise<void> {
  const [smsc, smtp] = await Promise.all([startSink('smsc'), startSink('smtp')]);
  const sinks = { SMPP_URL: smsc.url, SMTP_URL: smtp.url, SMPP_THROTTLE: '10000' };
  const realisticData = await prepareData(sinks, clinicians);
  const baseline = await startBaseline();
  const realistic = await startAppliance(realisticData);
  try {
    const realisticSet = realisticBookings(realisticData.tokens);
    const started = performance.now();
    await book(realistic.url, realisticSet);
    await drained([smsc, smtp]);
    process.stdout.write(
      `\n(${realisticSet.length} meetings booked through the API and their invitations sent in ${((performance.now() - started) / 1000).toFixed(0)} s)\n`,
    );

    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    // Bookings under load go two months ahead, out of every measured week.
    const later = new Date(Date.now() + 60 * 86_400_000);
    const bookingCase: HttpCase = {
      method: 'POST',
      path: '/api/v1/meetings',
      headers: { ...bearer(realisticData.tokens[1]), 'content-type': 'application/json' },
      body: JSON.stringify(meeting(0, later)),
    };

    type Row = { target: 'baseline' | 'realistic'; c: HttpCase };
    const cases: Record<string, Row> = {
      baseline: { target: 'baseline', c: { path: '/' } },
      me: { target: 'realistic', c: { path: '/api/v1/me', headers: bearer(realisticData.tokens[2]) } },
      booking: { target: 'realistic', c: bookingCase },
    };
    const urls = { baseline: baseline.url, realistic: realistic.url };
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
  } finally {
    await Promise.all([baseline.stop(), realistic.stop()]);
    await Promise.all([smsc.close(), smtp.close()]);
    realisticData.remove();
  }
}

if (isMain(import.meta.url)) await run();
