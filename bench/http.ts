// The staff side under load, the appliance as its own process beside the baseline process:
// - booking a meeting with four participants (the clinician and three invited), 50 connections,
//   into the realistic calendar of bench/calendar.ts (1,000 meetings already booked);
// - an authenticated GET /api/v1/me, the lightest staff request.
// The calendar itself is measured by bench/calendar.ts. Invitations go to an SMSC and an SMTP
// server in processes of their own; the outbox is drained before the measuring starts and after
// each round of bookings.
import { bookingUnderLoad, clinicians, realisticBookings } from './calendar.ts';
import {
  bookAndSend,
  besideBaseline,
  connections,
  cpuPerRequest,
  drained,
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
} from './harness.ts';

export async function run(): Promise<void> {
  const [smsc, smtp] = await Promise.all([startSink('smsc'), startSink('smtp')]);
  const sinks = { SMPP_URL: smsc.url, SMTP_URL: smtp.url, SMPP_THROTTLE: '10000' };
  const realisticData = await prepareData(sinks, clinicians);
  const baseline = await startBaseline();
  const realistic = await startAppliance(realisticData);
  try {
    await bookAndSend([{ url: realistic.url, bookings: realisticBookings(realisticData.clinicians) }], [smsc, smtp]);

    const booking = bookingUnderLoad(realisticData.clinician(1).token);
    // A booking's CPU counts its invitations' sending, which the outbox does in the same process.
    const bookingCpu = cpuPerRequest(
      realistic.pid,
      () => measure(realistic.url, booking),
      () => drained([smsc, smtp]),
    );
    const rates = await besideBaseline(
      `Staff requests, ${connections} connections, ${seconds} s each, ${rounds} interleaved rounds: median (min–max)`,
      baseline.url,
      {
        me: {
          label: 'GET /api/v1/me (bearer token)',
          measure: () =>
            measure(realistic.url, {
              path: '/api/v1/me',
              headers: { authorization: `Bearer ${realisticData.clinician(2).token}` },
            }),
        },
        booking: {
          label: 'POST /api/v1/meetings: book with 3 invited (4 participants)',
          // What a round of bookings sent is out of the way before the next measurement.
          measure: bookingCpu.measure,
        },
      },
    );

    const { ratio, p99 } = rates.booking;
    judge(
      `booking (4 participants), ${connections} connections: rate`,
      '≥ 5 % of the empty route',
      `${percent(ratio.median)} (${percent(ratio.min)}–${percent(ratio.max)}); baseline ${rates.baseline.rps.median.toFixed(0)} req/s`,
      ratio.median >= 0.05 && rates.booking.errors === 0,
    );
    judge(
      `booking (4 participants), ${connections} connections: p99`,
      '≤ 60 ms',
      showSpread(p99, ' ms', 0),
      p99.median <= 60,
    );
    judge(
      "booking: the appliance's CPU per booking, its three invitations sent",
      'no goal',
      showSpread(spread(bookingCpu.rounds), ' µs', 0),
    );
  } finally {
    await Promise.all([baseline.stop(), realistic.stop()]);
    await Promise.all([smsc.close(), smtp.close()]);
    realisticData.remove();
  }
}

if (isMain(import.meta.url)) await run();
