// The calendar under load, the appliance as its own process beside the baseline process:
// - a realistic calendar: 20 clinicians, each with a care unit of their own, 10 meetings a week
//   over 5 weeks (1,000 meetings in the database); one clinician's week (10 meetings) and day
//   (2 meetings) as the calendar page (HTML), and the week as the API list (JSON);
// - the worst case beside it: all 1,000 meetings in one unit's one week, page and API list.
// Every meeting has the routine's four people: the clinician who books, the patient (SMS), a
// teacher (e-mail) and a social worker (SMS). The bookings go through the API and their
// invitations to an SMSC and an SMTP server in processes of their own, drained before measuring.
import { addDays, fromClinicTime, mondayOf, today } from '../appliance/src/common/clock.ts';
import { Client } from '../test/helpers/server.ts';
import {
  bookAndSend,
  besideBaseline,
  connections,
  cpuPerRequest,
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
  type HttpCase,
} from './harness.ts';

export const clinicians = 20;
const weeks = 5;
const perWeek = 10;
const worstCase = clinicians * weeks * perWeek;

/** The three people a clinician invites, as the routine has them: patient by SMS, teacher by e-mail, social worker by SMS. */
const invited = (n: number) => [
  { kind: 'patient', name: `Patient ${n}`, mobile: '070-123 45 67', identification: 'sms' },
  { kind: 'guest', name: 'Lärare Eva Ek', email: `eva.ek.${n}@skola.example`, identification: 'none' },
  { kind: 'guest', name: 'Olle Socialsekreterare', mobile: '0761234567', identification: 'sms' },
];

/** A booking's body: meeting `n`, three invited. */
export const meeting = (n: number, startsAt: Date) => ({
  title: `Samordnad planering ${n}`,
  startsAt: startsAt.toISOString(),
  durationMinutes: 30,
  documentationPlan: 'Journal',
  participants: invited(n),
});

/** Booking a meeting with three invited under load: two months ahead, out of every measured week. */
export const bookingUnderLoad = (token: string): HttpCase => ({
  method: 'POST',
  path: '/api/v1/meetings',
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  body: JSON.stringify(meeting(0, new Date(Date.now() + 60 * 86_400_000))),
});

/** The weeks start next Monday, so that nothing is booked in the past. */
export const firstMonday = () => mondayOf(addDays(today(), 7));

/** The k-th meeting of a week: weekdays in turn, from 08:00 on, `minutes` apart, 40 a day at most. */
const slot = (monday: string, k: number, minutes: number) =>
  new Date(fromClinicTime(addDays(monday, k % 5), '08:00').getTime() + (Math.floor(k / 5) % 40) * minutes * 60_000);

/** The realistic calendar: for each clinician, 10 meetings a week over 5 weeks. */
export const realisticBookings = (clinicians: { token: string }[]) =>
  clinicians.flatMap(({ token }, c) =>
    Array.from({ length: weeks * perWeek }, (_, i) => ({
      token,
      body: meeting(c * 1000 + i, slot(addDays(firstMonday(), 7 * Math.floor(i / perWeek)), i % perWeek, 60)),
    })),
  );

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
    const monday = firstMonday();
    const one = realisticData.clinician(0);
    const alone = worstData.clinician(0);
    const worstSet = Array.from({ length: worstCase }, (_, i) => ({
      token: alone.token,
      body: meeting(i, slot(monday, i, 12)),
    }));
    await bookAndSend(
      [
        { url: realistic.url, bookings: realisticBookings(realisticData.clinicians) },
        { url: worst.url, bookings: worstSet },
      ],
      [smsc, smtp],
    );

    // The third of the five weeks, and its Wednesday.
    const shownMonday = addDays(monday, 14);
    const period = (from: string) =>
      `from=${encodeURIComponent(fromClinicTime(from).toISOString())}&to=${encodeURIComponent(fromClinicTime(addDays(from, 7)).toISOString())}`;
    const realisticCookie = await sessionCookie(realistic.url, one.email, one.password);
    const worstCookie = await sessionCookie(worst.url, alone.email, alone.password);
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

    // A worst-case request takes seconds: at 50 connections hardly one would finish within a round.
    const worstConnections = Math.min(10, connections);
    const atRealistic = (c: HttpCase) => () => measure(realistic.url, c);
    const weekPageCpu = cpuPerRequest(
      realistic.pid,
      atRealistic({ path: `/calendar?view=week&date=${shownMonday}`, headers: { cookie: realisticCookie } }),
    );
    const atWorst = (c: HttpCase) => () => measure(worst.url, c, { connections: worstConnections });
    const rates = await besideBaseline(
      `The calendar, ${connections} connections, ${seconds} s each, ${rounds} interleaved rounds: median (min–max)`,
      baseline.url,
      {
        weekPage: {
          label: `GET /calendar?view=week: a clinician's week, ${perWeek} of ${worstCase} meetings (HTML)`,
          measure: weekPageCpu.measure,
        },
        dayPage: {
          label: `GET /calendar?view=day: a day of that week, ${perWeek / 5} meetings (HTML)`,
          measure: atRealistic({
            path: `/calendar?view=day&date=${addDays(shownMonday, 2)}`,
            headers: { cookie: realisticCookie },
          }),
        },
        weekApi: {
          label: 'GET /api/v1/meetings: the same week (JSON)',
          measure: atRealistic({ path: `/api/v1/meetings?${period(shownMonday)}`, headers: bearer(one.token) }),
        },
        worstPage: {
          label: `GET /calendar?view=week: all ${worstCase} meetings in the week shown (HTML, ${worstConnections} connections)`,
          measure: atWorst({ path: `/calendar?view=week&date=${monday}`, headers: { cookie: worstCookie } }),
        },
        worstApi: {
          label: `GET /api/v1/meetings: the same week (JSON, ${worstConnections} connections)`,
          measure: atWorst({ path: `/api/v1/meetings?${period(monday)}`, headers: bearer(alone.token) }),
        },
      },
    );

    for (const [name, label] of [
      ['weekPage', 'HTML page'],
      ['weekApi', 'API list'],
    ] as const) {
      const r = rates[name].ratio;
      judge(
        `one clinician's week (${perWeek} of ${worstCase} meetings): ${label}`,
        '≥ 30 % of the empty route',
        `${percent(r.median)} (${percent(r.min)}–${percent(r.max)})`,
        r.median >= 0.3 && rates[name].errors === 0,
      );
    }
    judge(
      `one clinician's week: the appliance's CPU per HTML page`,
      'no goal',
      showSpread(spread(weekPageCpu.rounds), ' µs', 0),
    );
    for (const [name, label] of [
      ['dayPage', `one clinician's day (${perWeek / 5} meetings): HTML page`],
      ['worstPage', `worst case, all ${worstCase} meetings in the week: HTML page`],
      ['worstApi', `worst case, all ${worstCase} meetings in the week: API list`],
    ] as const) {
      const r = rates[name].ratio;
      judge(label, 'no goal', `${percent(r.median, 2)} (${percent(r.min, 2)}–${percent(r.max, 2)})`);
    }
  } finally {
    await Promise.all([baseline.stop(), realistic.stop(), worst.stop()]);
    await Promise.all([smsc.close(), smtp.close()]);
    realisticData.remove();
    worstData.remove();
  }
}

if (isMain(import.meta.url)) await run();
