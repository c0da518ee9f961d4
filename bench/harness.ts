// The shared harness of every benchmark. The subject is the appliance as it runs in production:
// built (dist/), started as its own process on a database of its own. Its baseline is an empty hapi
// route in a separate minimal process (bench/empty-route.mjs). Baseline and subject are measured in
// interleaved rounds (BENCH_ROUNDS, at least 3) and reported as min/median/max, because these
// machines are shared and a single run says little. Each case adds a row to the summary that
// `npm run bench` prints last: case, goal (issue 13's table), measured, verdict.
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type * as Knex from '../appliance/src/db/knex.ts';
import type * as StaffService from '../appliance/src/staff/service.ts';
import { present } from '../test/helpers/present.ts';
import { startServer, type TestServer } from '../test/helpers/server.ts';

/**
 * Every process a benchmark starts (the appliance, the baseline, the sinks, the proxy) is killed,
 * and every data folder it writes removed, when the benchmark exits, also when it fails half-way
 * (an appliance that would not start, a thrown error), so that no run leaves a server or a database
 * behind. Those stopped and removed in order are gone from these sets by then.
 */
const children = new Set<ChildProcess>();
const dataDirs = new Set<string>();
process.once('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});
function owned(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** A helper process of the benchmark (bench/<file>), run through tsx, talking to it over IPC. */
export function forkBench(file: string, args: string[] = []): ChildProcess {
  return owned(
    fork(join(root, 'bench', file), args, {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
}

export const seconds = Number(process.env.BENCH_SECONDS ?? 5);
export const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
export const rounds = Math.max(3, Number(process.env.BENCH_ROUNDS ?? 3));
const root = fileURLToPath(new URL('..', import.meta.url));
/** Another checkout, built, to measure instead of this one (the "before" of a change): BENCH_APPLIANCE=/path. */
const applianceRoot = process.env.BENCH_APPLIANCE ?? root;
/**
 * BENCH_PROFILE=/dir: each appliance process writes a V8 CPU profile there when it stops (open it in
 * Chrome's DevTools), to see where a case's time goes. Node refuses --cpu-prof in NODE_OPTIONS.
 */
const profileArgs = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];

// --- figures -------------------------------------------------------------------------------

export interface Spread {
  min: number;
  median: number;
  max: number;
}

export function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    min: sorted[0] ?? Number.NaN,
    median: sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((sorted.length * p) / 100) - 1)] ?? Number.NaN;
}

export function format(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  return Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}

/** "median (min–max)" with a unit, the way every spread is printed. */
export function showSpread(s: Spread, unit = '', digits?: number): string {
  const f = (n: number) => (digits === undefined ? format(n) : n.toFixed(digits));
  return `${f(s.median)}${unit} (${f(s.min)}–${f(s.max)})`;
}

export const percent = (x: number, digits = 1) => `${(x * 100).toFixed(digits)} %`;

export function table(title: string, header: string[], rows: (string | number)[][]): void {
  const body = rows.map((r) => r.map((c) => (typeof c === 'number' ? format(c) : c)));
  const widths = header.map((_, i) => Math.max(...[header, ...body].map((r) => String(r[i] ?? '').length)));
  const line = (r: (string | number)[]) =>
    r
      .map((c, i) => String(c ?? '').padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  process.stdout.write(`\n${title}\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const r of body) process.stdout.write(`${line(r)}\n`);
}

// --- the summary ---------------------------------------------------------------------------

export interface Verdict {
  case: string;
  goal: string;
  measured: string;
  verdict: 'met' | 'NOT MET' | '—';
}

export const summary: Verdict[] = [];

/** One row of the closing table; `met` undefined for a figure shown beside the goals without one. */
export function judge(name: string, goal: string, measured: string, met?: boolean): void {
  summary.push({ case: name, goal, measured, verdict: met === undefined ? '—' : met ? 'met' : 'NOT MET' });
}

export function printSummary(): void {
  table(
    'Summary (goals from issue 13; median of the rounds, min–max in brackets)',
    ['case', 'goal', 'measured', 'verdict'],
    summary.map((v) => [v.case, v.goal, v.measured, v.verdict]),
  );
}

// --- rounds ----------------------------------------------------------------------------------

/**
 * Runs every step once per round, in the given order, for `rounds` rounds: baseline and subjects
 * see the same machine. Returns each step's values in round order.
 */
export async function interleaved<S extends Record<string, () => Promise<unknown>>>(
  steps: S,
  n = rounds,
): Promise<{ [K in keyof S]: Awaited<ReturnType<S[K]>>[] }> {
  const results = Object.entries(steps).map(([name, step]) => ({ name, step, values: [] as unknown[] }));
  for (let round = 0; round < n; round += 1) {
    for (const { step, values } of results) values.push(await step());
  }
  return Object.fromEntries(results.map(({ name, values }) => [name, values])) as {
    [K in keyof S]: Awaited<ReturnType<S[K]>>[];
  };
}

// --- HTTP load ---------------------------------------------------------------------------------

export interface Measurement {
  rps: number;
  p99: number;
  errors: number;
  /** Requests answered in all. */
  requests: number;
}

export interface HttpCase {
  method?: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export async function measure(
  url: string,
  c: HttpCase,
  options: { connections?: number; seconds?: number } = {},
): Promise<Measurement> {
  const result = await autocannon({
    url: url + c.path,
    method: c.method ?? 'GET',
    headers: c.headers,
    body: c.body,
    connections: options.connections ?? connections,
    duration: options.seconds ?? seconds,
  });
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
    requests: result.requests.total,
  };
}

/**
 * The appliance's CPU (user + system, µs) per request of each round, kept beside the rates: on a
 * shared machine the rate moves with whatever else runs, the CPU a request costs far less. `after`
 * is what else the request causes before it is counted (e.g. the outbox sending its invitations).
 */
export function cpuPerRequest(
  pid: number,
  measure: () => Promise<Measurement>,
  after: () => Promise<unknown> = async () => undefined,
): { measure: () => Promise<Measurement>; rounds: number[] } {
  const rounds: number[] = [];
  return {
    rounds,
    async measure() {
      const before = cpuSeconds(pid);
      const m = await measure();
      await after();
      rounds.push(((cpuSeconds(pid) - before) * 1e6) / Math.max(1, m.requests));
      return m;
    },
  };
}

/** A case measured beside the baseline: its label in the table, and one round's measurement. */
export interface RateCase {
  label: string;
  measure(): Promise<Measurement>;
}

export interface Rates {
  rps: Spread;
  p99: Spread;
  /** Each round's rate ÷ the baseline's rate in the same round. */
  ratio: Spread;
  /** Failed requests, all rounds together. */
  errors: number;
}

/**
 * Measures the empty route's process at `baselineUrl` and then each case, in interleaved rounds,
 * prints them as one table (req/s, p99, rate ÷ baseline, errors) and returns each one's figures.
 */
export async function besideBaseline<K extends string>(
  title: string,
  baselineUrl: string,
  cases: Record<K, RateCase>,
): Promise<{ baseline: Rates } & Record<K, Rates>> {
  const all = [
    {
      name: 'baseline',
      label: 'empty hapi route, separate process (baseline)',
      measure: () => measure(baselineUrl, { path: '/' }),
    },
    ...Object.entries<RateCase>(cases).map(([name, c]) => ({ name, ...c })),
  ].map((c) => ({ ...c, runs: [] as Measurement[], ratios: [] as number[] }));
  for (let round = 0; round < rounds; round += 1) {
    let baselineRps = Number.NaN;
    for (const c of all) {
      const m = await c.measure();
      if (c.name === 'baseline') baselineRps = m.rps;
      c.runs.push(m);
      c.ratios.push(m.rps / baselineRps);
    }
  }
  const rates = all.map((c) => ({
    ...c,
    rps: spread(c.runs.map((m) => m.rps)),
    p99: spread(c.runs.map((m) => m.p99)),
    ratio: spread(c.ratios),
    errors: c.runs.reduce((n, m) => n + m.errors, 0),
  }));
  table(
    title,
    ['case', 'req/s', 'p99 ms', 'rate ÷ baseline', 'errors'],
    rates.map((r) => [
      r.label,
      showSpread(r.rps, '', 0),
      showSpread(r.p99, '', 0),
      r.name === 'baseline' ? '1' : showSpread(r.ratio, '', 3),
      r.errors,
    ]),
  );
  return Object.fromEntries(rates.map((r): [string, Rates] => [r.name, r])) as { baseline: Rates } & Record<K, Rates>;
}

// --- processes ---------------------------------------------------------------------------------

export const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

/** One plain HTTP request (no keep-alive), for readiness polls and setup. */
export function request(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const headers = options.body
      ? { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) }
      : options.headers;
    const req = http.request(url, { method: options.method ?? 'GET', headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

export interface Process {
  url: string;
  port: number;
  pid: number;
  /** From spawn to the first 200 from /health/ready, ms. */
  readyMs: number;
  memory(): { rss: number; peak: number };
  stop(): Promise<void>;
}

async function spawnUntilReady(
  args: string[],
  env: NodeJS.ProcessEnv,
  port: number,
  what: string,
  cwd = root,
): Promise<Process> {
  const started = performance.now();
  const child = owned(spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'ignore', 'inherit'] }));
  const exited = once(child, 'exit');
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode} before it was ready`);
    const reply = await request(`${url}/health/ready`).catch(() => undefined);
    if (reply && reply.status >= 200 && reply.status < 300) break;
    if (performance.now() - started > 120_000) {
      // Never leave a process behind: a benchmark that gives up stops what it started.
      child.kill('SIGKILL');
      throw new Error(`${what} was not ready within 120 s${reply ? `: ${reply.status} ${reply.text}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const readyMs = performance.now() - started;
  return {
    url,
    port,
    pid: child.pid!,
    readyMs,
    memory: () => memoryOf(child.pid!),
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

/** The baseline process: hapi with one empty route and nothing else (bench/empty-route.mjs). */
export async function startBaseline(): Promise<Process> {
  const port = await freePort();
  return spawnUntilReady(
    [join(root, 'bench', 'empty-route.mjs')],
    { ...process.env, PORT: String(port) },
    port,
    'the baseline process',
  );
}

let builtOnce = false;
/** The appliance is measured as built, the way `npm start` runs it: build it first when the sources changed. */
export function ensureBuilt(): void {
  if (builtOnce || applianceRoot !== root) return;
  const result = spawnSync(process.execPath, [join(root, 'bin', 'build.js'), '--if-changed'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error('the build failed');
  builtOnce = true;
}

/** A module of the measured appliance as built (dist/appliance/src/<path>). */
export async function builtModule<T>(path: string): Promise<T> {
  ensureBuilt();
  return (await import(join(applianceRoot, 'dist', 'appliance', 'src', path))) as T;
}

export interface Clinician {
  id: string;
  email: string;
  password: string;
  unitId: string;
  token: string;
}

export interface ApplianceData {
  dir: string;
  env: Record<string, string>;
  /** One clinician per unit, in the order written, each with a bearer token of their own. */
  clinicians: Clinician[];
  /** The `n`-th clinician (from 0); a clear failure when fewer units were asked for. */
  clinician(n: number): Clinician;
  remove(): void;
}

/**
 * A data directory and SQLite database for an appliance process, migrated, with care units and one
 * clinician (and API token) per unit written before the process starts.
 */
export async function prepareData(env: Record<string, string> = {}, units = 1): Promise<ApplianceData> {
  // The measured checkout's own code writes its database: its migrations are the ones it expects.
  const { createDb } = await builtModule<typeof Knex>('db/knex.js');
  const { addStaff, addUnit, createToken } = await builtModule<typeof StaffService>('staff/service.js');
  const dir = mkdtempSync(join(tmpdir(), 'samverka-bench-'));
  dataDirs.add(dir);
  const all = {
    NODE_ENV: 'development',
    DATABASE_URL: `sqlite:${join(dir, 'samverka.db')}`,
    DATA_DIR: dir,
    HOST: '127.0.0.1',
    SESSION_SECRET: randomBytes(32).toString('hex'),
    DATA_KEY: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'warn',
    REMINDER_OFFSETS: 'none',
    // The bench reads the appliance's own figures (commitFigures) as the hospital's monitoring would.
    METRICS_TOKEN: randomBytes(24).toString('hex'),
    ...env,
  };
  const db = createDb(all.DATABASE_URL);
  const clinicians: Clinician[] = [];
  try {
    await db.migrate.latest();
    for (let u = 0; u < units; u += 1) {
      const unit = `Barn- och ungdomsmedicin ${u + 1}`;
      await addUnit(db, { name: unit, phone: '010-123 45 67' });
      const password = randomBytes(16).toString('hex');
      const { staff } = await addStaff(db, {
        email: `klinik${u + 1}@region.example`,
        name: `Kliniker ${u + 1}`,
        role: 'clinician',
        unit,
        password,
      });
      const { token } = await createToken(db, staff.email, 'bench');
      clinicians.push({ id: staff.id, email: staff.email, password, unitId: staff.unitId, token });
    }
  } finally {
    await db.destroy();
  }
  return {
    dir,
    env: all,
    clinicians,
    clinician: (n) => present(clinicians[n], `clinician ${n + 1} of the ${units} written`),
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
      dataDirs.delete(dir);
    },
  };
}

/** The appliance, built, as its own process on `data`'s database. */
export async function startAppliance(data: ApplianceData, env: Record<string, string> = {}): Promise<Process> {
  ensureBuilt();
  const port = await freePort();
  const all = { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, ...data.env, ...env };
  return spawnUntilReady(
    [...profileArgs, join(applianceRoot, 'dist', 'appliance', 'src', 'main.js')],
    { ...process.env, ...all },
    port,
    'the appliance',
    applianceRoot,
  );
}

/** The appliance's group commit so far, from its /metrics: transactions, and the writes and changes in them. */
export async function commitFigures(
  appliance: Process,
  data: ApplianceData,
): Promise<{ commits: number; writes: number }> {
  const reply = await request(`${appliance.url}/metrics`, {
    headers: { authorization: `Bearer ${present(data.env.METRICS_TOKEN, 'the metrics token')}` },
  });
  if (reply.status !== 200) throw new Error(`/metrics answered ${reply.status}`);
  const figure = (name: string) => {
    const found = new RegExp(`^${name} (\\d+)$`, 'm').exec(reply.text)?.[1];
    if (found === undefined) throw new Error(`/metrics has no ${name}`);
    return Number(found);
  };
  return {
    commits: figure('samverka_db_group_commits_total'),
    writes: figure('samverka_db_group_commit_writes_total'),
  };
}

/** Books through the API with `token`, `parallel` requests at a time; throws on the first refusal. */
export async function book(url: string, bookings: { token: string; body: unknown }[], parallel = 8): Promise<void> {
  // One iterator shared by the workers: each booking is taken by exactly one of them.
  const queue = bookings.values();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (const { token, body } of queue) {
        const reply = await request(`${url}/api/v1/meetings`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        if (reply.status !== 201) throw new Error(`booking refused: ${reply.status} ${reply.text}`);
      }
    }),
  );
}

/** Books each set into its appliance at once and waits until their invitations are sent; says how long it took. */
export async function bookAndSend(
  sets: { url: string; bookings: { token: string; body: unknown }[] }[],
  sinks: Sink[],
) {
  const started = performance.now();
  await Promise.all(sets.map((s) => book(s.url, s.bookings)));
  await drained(sinks);
  const meetings = sets.reduce((n, s) => n + s.bookings.length, 0);
  process.stdout.write(
    `\n(${meetings} meetings booked through the API and their invitations sent in ${((performance.now() - started) / 1000).toFixed(0)} s)\n`,
  );
}

// --- sinks in processes of their own -----------------------------------------------------------

export interface Sink {
  url: string;
  /** Arrival times (epoch ms) of everything received since the last read or reset. */
  arrivals(): Promise<number[]>;
  /** SMTP with `keepLinks`: each mail's guest link by recipient, all so far. */
  links(): Promise<Map<string, string>>;
  /** The SMSC: the messages read since the last reset, and the submit_sm they came in. */
  parts(): Promise<{ messages: number; parts: number }>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** Waits until none of the sinks has received anything for `quietMs`: the outbox has drained. */
export async function drained(sinks: Sink[], quietMs = 1000): Promise<void> {
  for (;;) {
    await new Promise((r) => setTimeout(r, quietMs));
    const fresh = await Promise.all(sinks.map((s) => s.arrivals()));
    if (fresh.every((a) => a.length === 0)) return;
  }
}

/**
 * An SMSC (answering each submit_sm after `responseDelayMs`, with delivery receipts) or an SMTP
 * server that drains and discards, in a child process of its own: sharing the bench's event loop,
 * its timers would fire late whenever the bench is busy, and the bench would measure that.
 */
export async function startSink(kind: 'smsc' | 'smtp', responseDelayMs = 0, keepLinks = false): Promise<Sink> {
  const args = [kind, String(responseDelayMs), keepLinks ? 'links' : 'discard'];
  const child = forkBench('sink.ts', args);
  const [url] = (await once(child, 'message')) as [string];
  const ask = async <T>(what: string): Promise<T> => {
    const reply = once(child, 'message') as Promise<[T]>;
    child.send(what);
    return (await reply)[0];
  };
  return {
    url,
    arrivals: () => ask<number[]>('arrivals'),
    links: async () => new Map(await ask<[string, string][]>('links')),
    parts: () => ask<{ messages: number; parts: number }>('parts'),
    reset: () => ask<void>('reset'),
    async close() {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

// --- the proxy in front of several processes ----------------------------------------------------

export interface ProxyProcess {
  url: string;
  port: number;
  pid: number;
  /** Routes to these ports from now on, round robin. */
  route(ports: number[]): Promise<void>;
  close(): Promise<void>;
}

/** The round-robin proxy (test/helpers/proxy.ts) in a process of its own (bench/proxy.ts). */
export async function startProxy(): Promise<ProxyProcess> {
  const child = forkBench('proxy.ts');
  const [url] = (await once(child, 'message')) as [string];
  return {
    url,
    port: Number(new URL(url).port),
    pid: child.pid!,
    async route(ports) {
      const ok = once(child, 'message');
      child.send(ports);
      await ok;
    },
    async close() {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

// --- CPU -----------------------------------------------------------------------------------------

const ticks = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far; 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticks;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds used so far by the PostgreSQL backends serving one database (pids from
 * pg_stat_activity): `since` the last reading, so that backends started meanwhile count from zero.
 * The server's shared processes (WAL writer, checkpointer) and other databases are left out.
 */
export async function backendsCpu(
  adminUrl: string,
  database: string,
): Promise<{ read(): Promise<number>; close(): Promise<void> }> {
  const { default: knex } = await import('knex');
  const admin = knex({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } });
  const pids = async () =>
    (
      await admin.raw<{ rows: { pid: number }[] }>('select pid from pg_stat_activity where datname = ?', [database])
    ).rows.map((r) => r.pid);
  let last = new Map<number, number>();
  const read = async () => {
    const now = new Map((await pids()).map((pid) => [pid, cpuSeconds(pid)]));
    let used = 0;
    for (const [pid, cpu] of now) used += cpu - (last.get(pid) ?? 0);
    last = now;
    return used;
  };
  await read();
  return { read, close: () => admin.destroy() };
}

export const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

// --- in-process appliance (only for the XMPP adapter case, whose memory figures are the adapter's) --

export const benchServer = (env: Record<string, string> = {}): Promise<TestServer> =>
  startServer({ env: { LOG_LEVEL: 'silent', ...env } });

/** True when this module is the script being run (`npx tsx bench/x.ts`), not imported by run.ts. */
export const isMain = (metaUrl: string): boolean =>
  process.argv[1] !== undefined && fileURLToPath(metaUrl) === process.argv[1];
