// Benchmarks print ratios against a baseline measured in the same run, never pass/fail: the
// machines are shared, so absolute numbers mean little and ratios mean more.
import autocannon from 'autocannon';
import type { Server } from '@hapi/hapi';
import { startServer, type TestServer } from '../test/helpers/server.ts';

export const seconds = Number(process.env.BENCH_SECONDS ?? 5);
export const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);

export interface Measurement {
  rps: number;
  p99: number;
  errors: number;
}

export interface HttpCase {
  method?: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export async function measure(url: string, c: HttpCase): Promise<Measurement> {
  const result = await autocannon({
    url: url + c.path,
    method: c.method ?? 'GET',
    headers: c.headers,
    body: c.body,
    connections,
    duration: seconds,
  });
  return { rps: result.requests.average, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

/** The baseline every HTTP case is set beside: a hapi route that does nothing, on the same server. */
export function addEmptyRoute(server: Server): HttpCase {
  server.route({ method: 'GET', path: '/bench/empty', options: { auth: false }, handler: () => '' });
  return { path: '/bench/empty' };
}

export async function benchServer(env: Record<string, string> = {}): Promise<TestServer & { baseline: HttpCase }> {
  const app = await startServer({ env: { LOG_LEVEL: 'silent', ...env } });
  return { ...app, baseline: addEmptyRoute(app.server) };
}

export function table(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? format(c) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i]).length)));
  const line = (r: (string | number)[]) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  process.stdout.write(`\n${title}\n${line(cells[0])}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const r of cells.slice(1)) process.stdout.write(`${line(r)}\n`);
}

function format(n: number): string {
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}

/** Prints one row per case: its rate and p99 beside the baseline's, and the ratios. */
export async function compareHttp(title: string, url: string, baseline: HttpCase, cases: Record<string, HttpCase>): Promise<void> {
  const base = await measure(url, baseline);
  const rows: (string | number)[][] = [['empty hapi route (baseline)', base.rps, base.p99, 1, 1, base.errors]];
  for (const [name, c] of Object.entries(cases)) {
    const m = await measure(url, c);
    rows.push([name, m.rps, m.p99, m.rps / base.rps, m.p99 / Math.max(base.p99, 1), m.errors]);
  }
  table(`${title} (${connections} connections, ${seconds} s each)`, ['case', 'req/s', 'p99 ms', 'rate ÷ baseline', 'p99 ÷ baseline', 'errors'], rows);
}

/** True when this module is the script being run (`npx tsx bench/x.ts`), not imported by run.ts. */
export const isMain = (metaUrl: string): boolean => process.argv[1] !== undefined && new URL(metaUrl).pathname === process.argv[1];
