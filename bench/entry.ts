// 500 guests entering at once, each from an address of their own, against the built appliance as
// its own process (so that its memory is its own): the e-mailed link page, the name POST, the
// technical test's result POST, and the waiting room's event stream up to its first event. All
// streams stay open until every guest is in, which is the peak. Printed: errors per step (goal 0),
// p50/p99 per step, and the appliance's resident memory idle and at the peak (VmHWM). Interleaved
// with the baseline: as many clients at once asking the empty route of the baseline process.
//
// The guests are real invitations: meetings booked through the API, links read from the mails that
// reached an SMTP server in a process of its own (the patients' SMS go to an SMSC in another).
// bench/scale.ts sends the same guests through a proxy to one, two and three processes.
import http from 'node:http';
import { inDays } from '../test/meetings/_booking.ts';
import { present } from '../test/helpers/present.ts';
import {
  commitFigures,
  cpuSeconds,
  interleaved,
  isMain,
  judge,
  percentile,
  prepareData,
  rounds,
  showSpread,
  spread,
  startAppliance,
  startBaseline,
  startSink,
  table,
  type Sink,
} from './harness.ts';

export const guests = Number(process.env.BENCH_GUESTS ?? 500);
const perMeeting = 99; // MAX_PARTICIPANTS 100: the booking clinician and the patient, then guests
const chrome =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';
export const steps = ['link page', 'name POST', 'tech-test result POST', 'waiting room: first event'] as const;
/** Step `i`'s figure in one round's list per step (its timings, errors or p99). */
export const atStep = <T>(perStep: T[], i: number): T =>
  present(perStep[i], `a figure for step ${i + 1} (${steps[i]})`);

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP request from `localAddress` (each guest its own loopback address, as real guests have their own). */
function send(
  port: number,
  localAddress: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
  untilText?: string,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: body ? { ...headers, 'content-length': Buffer.byteLength(body) } : headers,
        localAddress,
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          // An event stream never ends: the first event is what the guest waits for.
          if (untilText && text.includes(untilText))
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
    if (untilText) streams.push(req);
  });
}
const streams: http.ClientRequest[] = [];
/** Ends the waiting-room streams still open (the guests leave). */
export const closeStreams = () => {
  for (const s of streams.splice(0)) s.destroy();
};
/** What the failed steps answered, counted: the first thing to read when errors is not 0. */
export const failures = new Map<string, number>();

const cookiesOf = (reply: Reply, jar: Map<string, string>) => {
  for (const c of reply.headers['set-cookie'] ?? []) {
    const end = c.indexOf(';');
    const pair = end === -1 ? c : c.slice(0, end);
    const eq = pair.indexOf('=');
    jar.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
};
const cookieHeader = (jar: Map<string, string>) => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');

const result = JSON.stringify({
  camera: 'yes',
  microphone: 'detected',
  microphoneLevel: 0.3,
  sound: 'yes',
  network: {
    relayConfigured: false,
    rttMs: 25,
    jitterMs: 3,
    loss: 0,
    downloadKbps: 20000,
    uploadKbps: 8000,
    durationMs: 4000,
  },
});

export interface Guest {
  name: string;
  email: string;
  path: string;
}

/** `guests` fresh invitations: meetings starting within the hour (their rooms open), 98 guests each; links from the mails. */
export async function invite(port: number, token: string, mail: Sink, round: number): Promise<Guest[]> {
  const invited: { name: string; email: string }[] = [];
  for (let m = 0; invited.length < guests; m++) {
    const list = Array.from({ length: Math.min(perMeeting - 1, guests - invited.length) }, (_, i) => ({
      kind: 'guest',
      name: `Gäst ${round}-${m}-${i}`,
      email: `gast-${round}-${m}-${i}@skola.example`,
      identification: 'none',
    }));
    const booking = {
      title: `Bänkmöte ${round}-${m}`,
      startsAt: inDays(0, new Date().getUTCHours() + 1),
      durationMinutes: 60,
      documentationPlan: 'Journal',
      participants: [
        { kind: 'patient', name: `Patient ${m}`, mobile: '070-123 45 67', identification: 'sms' },
        ...list,
      ],
    };
    const reply = await send(
      port,
      '127.0.0.1',
      'POST',
      '/api/v1/meetings',
      { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      JSON.stringify(booking),
    );
    if (reply.status !== 201) throw new Error(`booking failed: ${reply.status} ${reply.body}`);
    invited.push(...list);
  }
  const deadline = Date.now() + 300_000;
  for (;;) {
    const links = await mail.links();
    if (invited.every((g) => links.has(g.email))) return invited.map((g) => ({ ...g, path: links.get(g.email)! }));
    if (Date.now() > deadline) throw new Error('the invitations did not all arrive within 300 s');
    await new Promise((r) => setTimeout(r, 200));
  }
}

const address = (i: number) => `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;

/** Every guest at once, each from its own address, through the four steps. */
export async function enter(
  port: number,
  invited: Guest[],
): Promise<{ timings: number[][]; errors: number[]; wall: number }> {
  const tallyOf = (name: (typeof steps)[number]) => ({ name, timings: [] as number[], errors: 0 });
  const linkPage = tallyOf('link page');
  const namePost = tallyOf('name POST');
  const resultPost = tallyOf('tech-test result POST');
  const firstEvent = tallyOf('waiting room: first event');
  const tally = [linkPage, namePost, resultPost, firstEvent]; // in the order of `steps`
  const started = performance.now();
  await Promise.all(
    invited.map(async (guest, i) => {
      const jar = new Map<string, string>();
      const timed = async (step: ReturnType<typeof tallyOf>, work: () => Promise<Reply>, ok: (r: Reply) => boolean) => {
        const t0 = performance.now();
        const reply = await work().catch(() => undefined);
        step.timings.push(performance.now() - t0);
        if (!reply || !ok(reply)) {
          step.errors += 1;
          const failure = `${step.name}: ${reply ? reply.status : 'no answer'}`;
          failures.set(failure, (failures.get(failure) ?? 0) + 1);
          return undefined;
        }
        cookiesOf(reply, jar);
        return reply;
      };
      if (!guest.path) return void (linkPage.errors += 1);
      const from = address(i);
      const page = await timed(
        linkPage,
        () => send(port, from, 'GET', guest.path, { 'user-agent': chrome }),
        (r) => r.status === 200,
      );
      if (!page) return;
      const form = new URLSearchParams({
        crumb: jar.get('crumb') ?? '',
        token: guest.path.slice(3),
        name: guest.name,
      }).toString();
      const named = await timed(
        namePost,
        () =>
          send(
            port,
            from,
            'POST',
            '/j',
            { 'user-agent': chrome, cookie: cookieHeader(jar), 'content-type': 'application/x-www-form-urlencoded' },
            form,
          ),
        // The name POST answers with the tech test page itself (or, before it did, a redirect to it).
        (r) =>
          (r.status === 200 || r.status === 302) &&
          (r.headers['set-cookie'] ?? []).some((c) => c.startsWith('samverka_guest=')),
      );
      if (!named) return;
      const tested = await timed(
        resultPost,
        () =>
          send(
            port,
            from,
            'POST',
            '/entry/test/results',
            {
              'user-agent': chrome,
              cookie: cookieHeader(jar),
              'content-type': 'application/json',
              'x-csrf-token': jar.get('crumb') ?? '',
            },
            result,
          ),
        (r) => r.status < 400,
      );
      if (!tested) return;
      await timed(
        firstEvent,
        () =>
          send(
            port,
            from,
            'GET',
            '/entry/waiting/events',
            { 'user-agent': chrome, cookie: cookieHeader(jar), accept: 'text/event-stream' },
            undefined,
            'event: room',
          ),
        (r) => r.status === 200 && r.body.includes('event: room'),
      );
    }),
  );
  return {
    timings: tally.map((s) => s.timings),
    errors: tally.map((s) => s.errors),
    wall: performance.now() - started,
  };
}

/** The baseline: as many clients at once, each from its own address, asking the empty route. */
export async function emptyBurst(port: number): Promise<number[]> {
  return Promise.all(
    Array.from({ length: guests }, async (_, i) => {
      const t0 = performance.now();
      await send(port, address(i), 'GET', '/', {}).catch(() => undefined);
      return performance.now() - t0;
    }),
  );
}

export async function run(): Promise<void> {
  const [mail, smsc] = await Promise.all([startSink('smtp', 0, true), startSink('smsc')]);
  const data = await prepareData(
    { SMTP_URL: mail.url, SMPP_URL: smsc.url, SMPP_THROTTLE: '1000', MAX_PARTICIPANTS: '100' },
    1,
  );
  const [baseline, appliance] = await Promise.all([startBaseline(), startAppliance(data)]);
  let round = 0;
  try {
    const idle = appliance.memory();
    const results = await interleaved({
      baseline: () => emptyBurst(baseline.port),
      guests: async () => {
        const invited = await invite(appliance.port, data.clinician(0).token, mail, round++);
        const cpuBefore = cpuSeconds(appliance.pid);
        const burst = await enter(appliance.port, invited);
        // The appliance's own CPU for the burst: what each guest costs it, whatever else the shared
        // machine's cores were doing meanwhile (the latencies above depend on that too).
        const cpuMsPerGuest = ((cpuSeconds(appliance.pid) - cpuBefore) * 1000) / invited.length;
        const memory = appliance.memory();
        closeStreams();
        return { ...burst, memory, cpuMsPerGuest };
      },
    });
    const p99 = (step: number) => spread(results.guests.map((r) => percentile(atStep(r.timings, step), 99)));
    const p50 = (step: number) => spread(results.guests.map((r) => percentile(atStep(r.timings, step), 50)));
    const errors = (step: number) => results.guests.reduce((n, r) => n + atStep(r.errors, step), 0);
    const base = spread(results.baseline.map((t) => percentile(t, 99)));
    table(
      `${guests} guests entering at once, each from its own address, ${rounds} interleaved rounds: median (min–max)`,
      ['step', 'errors (all rounds)', 'p50 ms', 'p99 ms'],
      [
        [
          `${guests} GETs of the empty route at once, separate process (baseline)`,
          0,
          showSpread(spread(results.baseline.map((t) => percentile(t, 50))), '', 0),
          showSpread(base, '', 0),
        ],
        ...steps.map((s, i) => [s, errors(i), showSpread(p50(i), '', 0), showSpread(p99(i), '', 0)]),
        ['all steps, wall time', '', '', showSpread(spread(results.guests.map((r) => r.wall)), '', 0)],
      ],
    );
    process.stdout.write(
      `\nThe appliance's CPU (user + system) per guest, all four steps: ${showSpread(spread(results.guests.map((r) => r.cpuMsPerGuest)), ' ms', 2)}\n`,
    );
    table(
      'Appliance memory (its own process), MB',
      ['moment', 'MB'],
      [
        ['idle, after start', idle.rss],
        [
          `${guests} waiting-room streams open (VmRSS)`,
          showSpread(spread(results.guests.map((r) => r.memory.rss)), '', 0),
        ],
        ['peak (VmHWM)', Math.max(...results.guests.map((r) => r.memory.peak))],
      ],
    );
    if (failures.size > 0) table('Failed steps by answer', ['step: status', 'count'], [...failures]);
    const { commits, writes } = await commitFigures(appliance, data);
    process.stdout.write(
      `\nGroup commit over the whole run: ${writes} writes and changes in ${commits} commits (${(writes / commits).toFixed(1)} per commit)\n`,
    );
    const worst = Math.max(...steps.map((_, i) => p99(i).median));
    const allErrors = steps.reduce((n, _, i) => n + errors(i), 0);
    judge(
      `${guests} guests entering at once`,
      '0 errors, p99 ≤ 1 s per step',
      `${allErrors} errors; slowest step p99 ${worst.toFixed(0)} ms (${steps.map((s, i) => `${s.split(' ')[0]} ${p99(i).median.toFixed(0)}`).join(', ')}); baseline p99 ${base.median.toFixed(0)} ms`,
      allErrors === 0 && worst <= 1000,
    );
  } finally {
    closeStreams();
    await Promise.all([appliance.stop(), baseline.stop()]);
    await Promise.all([mail.close(), smsc.close()]);
    data.remove();
  }
}

if (isMain(import.meta.url)) await run();
