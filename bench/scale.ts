// Several appliance processes on one PostgreSQL behind a round-robin proxy (issue 14): booking at
// 50 connections and 500 guests entering at once (bench/entry.ts's four steps), through the proxy
// to one, two and three processes. Each process is the built appliance started as its own process;
// the proxy (test/helpers/proxy.ts) runs in a process of its own and adds X-Forwarded-For, so each
// guest keeps an address of its own (TRUSTED_PROXIES). The baseline is the empty route's process,
// asked directly and through the same proxy (what the proxy itself costs). Interleaved rounds,
// median (min–max). The CPU each part used during the guests' burst - the appliance processes,
// the proxy, PostgreSQL - says where the time went, and so where the next bottleneck is.
// Needs a PostgreSQL server: BENCH_DATABASE_URL (or TEST_DATABASE_URL), postgres://…/postgres; a
// database of its own is created and dropped.
import { availableParallelism } from 'node:os';
import { postgresDatabase } from '../test/helpers/databases.ts';
import { present } from '../test/helpers/present.ts';
import { bookingUnderLoad } from './calendar.ts';
import { atStep, closeStreams, emptyBurst, enter, failures, guests, invite, steps } from './entry.ts';
import {
  connections,
  backendsCpu,
  cpuSeconds,
  drained,
  interleaved,
  isMain,
  judge,
  loadAverage,
  measure,
  percentile,
  prepareData,
  rounds,
  seconds,
  showSpread,
  spread,
  startAppliance,
  startBaseline,
  startProxy,
  startSink,
  table,
  type Measurement,
  type Process,
} from './harness.ts';

const counts = [1, 2, 3] as const;

/** CPU seconds a step used: the routed appliance processes, the proxy, PostgreSQL's backends of this database. */
interface Cpu {
  appliances: number;
  proxy: number;
  postgres: number;
}

interface Booking extends Measurement {
  cpu: Cpu;
  wall: number;
}

interface Burst {
  p99: number[];
  errors: number;
  wall: number;
  cpu: Cpu;
}

export async function run(): Promise<void> {
  const adminUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    process.stdout.write('\nscale: skipped - set BENCH_DATABASE_URL (postgres://user:password@host:5432/postgres)\n');
    judge('1, 2 and 3 processes on PostgreSQL', 'no goal', 'not measured: no PostgreSQL (BENCH_DATABASE_URL)');
    return;
  }
  const database = present(await postgresDatabase(adminUrl), 'a database of its own on the PostgreSQL server');
  const loadAtStart = loadAverage();
  const postgres = await backendsCpu(adminUrl, new URL(database.url).pathname.slice(1));
  const [mail, smsc] = await Promise.all([startSink('smtp', 0, true), startSink('smsc')]);
  const proxy = await startProxy();
  const data = await prepareData(
    {
      DATABASE_URL: database.url,
      PUBLIC_URL: proxy.url,
      SMTP_URL: mail.url,
      SMPP_URL: smsc.url,
      SMPP_THROTTLE: '10000',
      MAX_PARTICIPANTS: '100',
      TRUSTED_PROXIES: '127.0.0.1',
    },
    2,
  );
  const baseline = await startBaseline();
  const processes: Process[] = [];
  try {
    // One after the other: the first migrates, the others find the database ready.
    for (const _ of counts) processes.push(await startAppliance(data));
    const booking = bookingUnderLoad(data.clinician(1).token);
    let round = 0;
    const routed = (n: number) => processes.slice(0, n);
    // CPU of the routed processes and the proxy, and PostgreSQL's since its last reading, over `work`.
    const withCpu = async <T>(n: number, work: () => Promise<T>): Promise<{ result: T; cpu: Cpu; wall: number }> => {
      const own = () => ({
        appliances: routed(n).reduce((sum, p) => sum + cpuSeconds(p.pid), 0),
        proxy: cpuSeconds(proxy.pid),
      });
      const before = own();
      await postgres.read();
      const started = performance.now();
      const result = await work();
      const wall = performance.now() - started;
      const after = own();
      const cpu = {
        appliances: after.appliances - before.appliances,
        proxy: after.proxy - before.proxy,
        postgres: await postgres.read(),
      };
      return { result, cpu, wall };
    };
    const bookingWith = (n: number) => async (): Promise<Booking> => {
      await proxy.route(routed(n).map((p) => p.port));
      const { result, cpu, wall } = await withCpu(n, () => measure(proxy.url, booking));
      await drained([mail, smsc]);
      return { ...result, cpu, wall };
    };
    const guestsWith = (n: number) => async (): Promise<Burst> => {
      await proxy.route(routed(n).map((p) => p.port));
      const invited = await invite(proxy.port, data.clinician(0).token, mail, round++);
      await drained([mail, smsc]);
      const { result: burst, cpu } = await withCpu(n, () => enter(proxy.port, invited));
      closeStreams();
      return {
        p99: burst.timings.map((t) => percentile(t, 99)),
        errors: burst.errors.reduce((a, b) => a + b, 0),
        wall: burst.wall,
        cpu,
      };
    };
    const results = await interleaved({
      baseline: () => measure(baseline.url, { path: '/' }),
      baselineProxied: async () => {
        await proxy.route([baseline.port]);
        return measure(proxy.url, { path: '/' });
      },
      burstProxied: async () => {
        await proxy.route([baseline.port]);
        return percentile(await emptyBurst(proxy.port), 99);
      },
      booking1: bookingWith(1),
      guests1: guestsWith(1),
      booking2: bookingWith(2),
      guests2: guestsWith(2),
      booking3: bookingWith(3),
      guests3: guestsWith(3),
    });

    const rate = (ms: Measurement[]) => showSpread(spread(ms.map((m) => m.rps)), '', 0);
    const p99 = (ms: Measurement[]) => showSpread(spread(ms.map((m) => m.p99)), '', 0);
    const errors = (ms: Measurement[]) => ms.reduce((n, m) => n + m.errors, 0);
    table(
      `The empty route's process, ${connections} connections, ${seconds} s, ${rounds} interleaved rounds: median (min–max)`,
      ['asked', 'req/s', 'p99 ms', `${guests} at once: p99 ms`],
      [
        ['directly (baseline)', rate(results.baseline), p99(results.baseline), ''],
        [
          'through the proxy',
          rate(results.baselineProxied),
          p99(results.baselineProxied),
          showSpread(spread(results.burstProxied), '', 0),
        ],
      ],
    );
    const bookings = { 1: results.booking1, 2: results.booking2, 3: results.booking3 };
    const bursts = { 1: results.guests1, 2: results.guests2, 3: results.guests3 };
    table(
      `Through the proxy: booking (4 participants, ${connections} connections) and ${guests} guests entering at once, p99 ms per step`,
      ['processes', 'booking req/s', 'booking p99', ...steps, 'errors', 'burst wall s'],
      counts.map((n) => [
        n,
        rate(bookings[n]),
        p99(bookings[n]),
        ...steps.map((_, i) => showSpread(spread(bursts[n].map((b) => atStep(b.p99, i))), '', 0)),
        errors(bookings[n]) + bursts[n].reduce((sum, b) => sum + b.errors, 0),
        showSpread(spread(bursts[n].map((b) => b.wall / 1000)), '', 1),
      ]),
    );
    const cores = availableParallelism();
    const share = (step: { cpu: Cpu; wall: number }, part: keyof Cpu) => step.cpu[part] / ((step.wall / 1000) * cores);
    const parts = ['appliances', 'proxy', 'postgres'] as const;
    const cpuRow = (label: string, steps: { cpu: Cpu; wall: number }[]) => [
      label,
      ...parts.map((part) => showSpread(spread(steps.map((b) => share(b, part) * 100)), ' %', 0)),
      showSpread(spread(steps.map((b) => parts.reduce((sum, part) => sum + share(b, part), 0) * 100)), ' %', 0),
    ];
    table(
      `CPU used, as a share of the machine (${cores} cores × the step's wall time); PostgreSQL: the backends of this database. Load average ${loadAtStart} at the start, ${loadAverage()} at the end`,
      ['step', 'appliance processes', 'proxy', 'PostgreSQL', 'together'],
      counts.flatMap((n) => [
        cpuRow(`booking, ${n} process${n > 1 ? 'es' : ''}`, bookings[n]),
        cpuRow(`${guests} guests, ${n} process${n > 1 ? 'es' : ''}`, bursts[n]),
      ]),
    );
    if (failures.size > 0) table('Failed steps by answer', ['step: status', 'count'], [...failures]);

    const median = (values: number[]) => spread(values).median;
    const bookingRate = (n: 1 | 2 | 3) => median(bookings[n].map((m) => m.rps));
    const cpuOf = (steps: { cpu: Cpu; wall: number }[]) =>
      parts.map((part) => `${part} ${(median(steps.map((b) => share(b, part))) * 100).toFixed(0)} %`).join(', ');
    const slowest = (n: 1 | 2 | 3) => Math.max(...steps.map((_, i) => median(bursts[n].map((b) => atStep(b.p99, i)))));
    judge(
      'booking through the proxy: 1 / 2 / 3 processes on PostgreSQL',
      'no goal (issue 14: side by side)',
      `${counts.map((n) => bookingRate(n).toFixed(0)).join(' / ')} req/s; p99 ${counts.map((n) => median(bookings[n].map((m) => m.p99)).toFixed(0)).join(' / ')} ms`,
    );
    judge(
      `${guests} guests through the proxy: 1 / 2 / 3 processes`,
      'no goal (issue 14: side by side)',
      `slowest step p99 ${counts.map((n) => (slowest(n) / 1000).toFixed(1)).join(' / ')} s; errors ${counts.map((n) => bursts[n].reduce((sum, b) => sum + b.errors, 0)).join(' / ')}`,
    );
    judge(
      'CPU share with 3 processes: booking; guests',
      'where the next bottleneck is',
      `${cpuOf(bookings[3])}; ${cpuOf(bursts[3])} (of ${cores} cores; load average ${loadAverage()})`,
    );
  } finally {
    closeStreams();
    await Promise.all([...processes.map((p) => p.stop()), baseline.stop()]);
    await proxy.close();
    await Promise.all([mail.close(), smsc.close()]);
    await postgres.close();
    await database.drop();
    data.remove();
  }
}

if (isMain(import.meta.url)) await run();
