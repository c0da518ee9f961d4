// 500 guests entering at once, each from an address of their own, against the appliance running as
// its own process (so that its memory is its own): the e-mailed link page, the name POST, the
// technical test's result POST, and the waiting room's event stream up to its first event. All
// streams stay open until every guest is in, which is the peak. Printed: errors per step (goal 0),
// p50/p99 per step, and the appliance's resident memory idle and at the peak (VmHWM).
//
// The guests are real invitations: meetings booked through the API, links read from the mails that
// reached an SMTP relay started here (the patients' SMS go to an SMSC started here).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDb } from '../appliance/src/db/knex.ts';
import { addStaff, addUnit, createToken } from '../appliance/src/staff/service.ts';
import { startRelay } from '../test/helpers/relay.ts';
import { startSmsc } from '../test/helpers/smsc.ts';
import { inDays } from '../test/meetings/_booking.ts';
import { isMain, table } from './harness.ts';

const guests = Number(process.env.BENCH_GUESTS ?? 500);
const perMeeting = 99; // MAX_PARTICIPANTS 100: the booking clinician and the patient, then guests
const chrome = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';
const steps = ['link page', 'name POST', 'tech-test result POST', 'waiting room: first event'] as const;

const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as AddressInfo;
    s.close(() => resolve(port));
  });
});

interface Reply { status: number; headers: http.IncomingHttpHeaders; body: string }

/** One HTTP request from `localAddress` (each guest its own loopback address, as real guests have their own). */
function send(port: number, localAddress: string, method: string, path: string, headers: Record<string, string>, body?: string, untilText?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: body ? { ...headers, 'content-length': Buffer.byteLength(body) } : headers, localAddress, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        // An event stream never ends: the first event is what the guest waits for.
        if (untilText && text.includes(untilText)) resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
    if (untilText) streams.push(req);
  });
}
const streams: http.ClientRequest[] = [];

function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

const cookiesOf = (reply: Reply, jar: Map<string, string>) => {
  for (const c of reply.headers['set-cookie'] ?? []) {
    const [pair] = c.split(';');
    const eq = pair!.indexOf('=');
    jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
  }
};
const cookieHeader = (jar: Map<string, string>) => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');

const result = JSON.stringify({
  camera: 'yes', microphone: 'detected', microphoneLevel: 0.3, sound: 'yes',
  network: { relayConfigured: false, rttMs: 25, jitterMs: 3, loss: 0, downloadKbps: 20000, uploadKbps: 8000, durationMs: 4000 },
});

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'samverka-bench-entry-'));
  const relay = await startRelay();
  const smsc = await startSmsc();
  const port = await freePort();
  const env = {
    NODE_ENV: 'development', DATABASE_URL: `sqlite:${join(dir, 'bench.db')}`, DATA_DIR: dir, HOST: '127.0.0.1', PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`, SESSION_SECRET: randomBytes(32).toString('hex'), DATA_KEY: randomBytes(32).toString('hex'),
    SMTP_URL: relay.url, SMPP_URL: smsc.url, SMPP_THROTTLE: '1000', REMINDER_OFFSETS: 'none', MAX_PARTICIPANTS: '100', LOG_LEVEL: 'warn',
  };
  // The booking clinician and an API token, written before the appliance starts.
  const db = createDb(env.DATABASE_URL);
  await db.migrate.latest();
  await addUnit(db, { name: 'Barn- och ungdomsmedicin', phone: '010-123 45 67' });
  const { staff } = await addStaff(db, { email: 'bench@region.example', name: 'Bänk Bänksson', role: 'clinician', unit: 'Barn- och ungdomsmedicin', password: randomBytes(16).toString('hex') });
  const { token } = await createToken(db, staff.email, 'bench');
  await db.destroy();

  const child = spawn(process.execPath, [`--import=${import.meta.resolve('tsx')}`, new URL('../appliance/src/main.ts', import.meta.url).pathname], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    for (let i = 0; ; i++) {
      const up = await send(port, '127.0.0.1', 'GET', '/health/live', {}).catch(() => undefined);
      if (up?.status === 200) break;
      if (i > 300) throw new Error('the appliance did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const idle = memoryOf(child.pid!);

    // Invitations: meetings starting in a few minutes (the room opens 15 minutes before), 99 guests each.
    const invited: { name: string; email: string }[] = [];
    for (let m = 0; invited.length < guests; m++) {
      const list = Array.from({ length: Math.min(perMeeting - 1, guests - invited.length) }, (_, i) => ({ kind: 'guest', name: `Gäst ${m}-${i}`, email: `gast-${m}-${i}@skola.example`, identification: 'none' }));
      const booking = { title: `Bänkmöte ${m}`, startsAt: inDays(0, new Date().getUTCHours() + 1), durationMinutes: 60, documentationPlan: 'Journal', participants: [{ kind: 'patient', name: `Patient ${m}`, mobile: '070-123 45 67', identification: 'sms' }, ...list] };
      const reply = await send(port, '127.0.0.1', 'POST', '/api/v1/meetings', { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, JSON.stringify(booking));
      if (reply.status !== 201) throw new Error(`booking failed: ${reply.status} ${reply.body}`);
      invited.push(...list);
    }
    await relay.waitFor(guests, 120_000);
    const links = new Map<string, string>();
    for (const mail of relay.received) {
      const to = mail.to && 'text' in mail.to ? mail.to.text : '';
      const path = /http:\/\/[^/]+(\/j\/[\w-]+)/.exec(mail.text ?? '')?.[1];
      if (path) links.set(to, path);
    }

    const timings: number[][] = steps.map(() => []);
    const errors = steps.map(() => 0);
    let peak = idle;
    const sampler = setInterval(() => { peak = memoryOf(child.pid!); }, 100);
    const started = performance.now();
    await Promise.all(invited.map(async (guest, i) => {
      const address = `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
      const jar = new Map<string, string>();
      const timed = async (step: number, work: () => Promise<Reply>, ok: (r: Reply) => boolean) => {
        const t0 = performance.now();
        const reply = await work().catch(() => undefined);
        timings[step]!.push(performance.now() - t0);
        if (!reply || !ok(reply)) {
          errors[step]! += 1;
          return undefined;
        }
        cookiesOf(reply, jar);
        return reply;
      };
      const path = links.get(guest.email);
      if (!path) return void (errors[0]! += 1);
      const page = await timed(0, () => send(port, address, 'GET', path, { 'user-agent': chrome }), (r) => r.status === 200);
      if (!page) return;
      const form = new URLSearchParams({ crumb: jar.get('crumb') ?? '', token: path.slice(3), name: guest.name }).toString();
      const named = await timed(1, () => send(port, address, 'POST', '/j', { 'user-agent': chrome, cookie: cookieHeader(jar), 'content-type': 'application/x-www-form-urlencoded' }, form), (r) => r.status === 302 && (r.headers['set-cookie'] ?? []).some((c) => c.startsWith('samverka_guest=')));
      if (!named) return;
      const tested = await timed(2, () => send(port, address, 'POST', '/entry/test/results', { 'user-agent': chrome, cookie: cookieHeader(jar), 'content-type': 'application/json', 'x-csrf-token': jar.get('crumb') ?? '' }, result), (r) => r.status < 400);
      if (!tested) return;
      await timed(3, () => send(port, address, 'GET', '/entry/waiting/events', { 'user-agent': chrome, cookie: cookieHeader(jar), accept: 'text/event-stream' }, undefined, 'event: room'), (r) => r.status === 200 && r.body.includes('event: room'));
    }));
    const wall = performance.now() - started;
    peak = memoryOf(child.pid!);
    clearInterval(sampler);

    const pct = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]! : 0);
    table(`${guests} guests entering at once, each from its own address (all in ${(wall / 1000).toFixed(1)} s)`, ['step', 'done', 'errors', 'p50 ms', 'p99 ms'],
      steps.map((s, i) => [s, timings[i]!.length - errors[i]!, errors[i]!, pct(timings[i]!, 50), pct(timings[i]!, 99)]));
    table('appliance memory (its own process)', ['moment', 'resident MB'], [
      ['idle, after start', idle.rss],
      [`${guests} waiting-room streams open`, peak.rss],
      ['peak during the run (VmHWM)', peak.peak],
    ]);
  } finally {
    for (const s of streams) s.destroy();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await relay.close();
    await smsc.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) await run();
