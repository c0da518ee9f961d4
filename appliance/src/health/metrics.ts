// Prometheus metrics: HTTP latency per route, the database's commits and the process's own figures.
// One registry per server, so that several servers in one process (the tests) do not share counters.
import type { Request, Server } from '@hapi/hapi';
import type { Histogram, Registry } from 'prom-client';

export interface Metrics {
  /** The text a Prometheus scrape reads, and its content type. */
  scrape(): Promise<{ text: string; contentType: string }>;
}

interface Observation {
  labels: { method: string; route: string; status: string };
  seconds: number;
}

/** Answers kept while prom-client loads; past this many it is loaded at once. */
const earlyLimit = 1000;

/**
 * prom-client (with the OpenTelemetry API it loads) is a noticeable part of a start, and only a
 * scrape needs it: it loads once the server is listening, and the answers given before that are
 * counted as soon as it is there.
 */
export function registerMetrics(server: Server): Metrics {
  const early: Observation[] = [];
  let latency: Histogram | undefined;
  let loading: Promise<Registry> | undefined;
  const load = () =>
    (loading ??= import('prom-client').then(({ collectDefaultMetrics, Counter, Histogram, Registry }) => {
      const registry = new Registry();
      collectDefaultMetrics({ register: registry });
      latency = new Histogram({
        name: 'http_request_duration_seconds',
        help: 'HTTP request latency by route',
        labelNames: ['method', 'route', 'status'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers: [registry],
      });
      for (const { labels, seconds } of early.splice(0)) latency.observe(labels, seconds);
      // How well writes share commits (db/group-commit.ts): writes ÷ commits is the writes per fsync.
      const commitFigures = {
        samverka_db_group_commits_total: ['transactions the group commit committed', 'commits'],
        samverka_db_group_commit_writes_total: ['writes and changes in those transactions', 'writes'],
        samverka_db_group_commit_failures_total: ['batches that failed, failing every write in them', 'failures'],
      } as const;
      for (const [name, [help, figure]] of Object.entries(commitFigures))
        new Counter({
          name,
          help,
          registers: [registry],
          collect() {
            this.reset();
            this.inc(server.app.groupCommit.stats[figure]);
          },
        });
      return registry;
    }));
  server.ext('onPostStart', () => {
    setImmediate(() => void load());
  });
  server.events.on('response', (request: Request) => {
    const status = (request.response as { statusCode?: number } | null)?.statusCode ?? 0;
    // The route pattern, not the path: one series per route, not per meeting id.
    const labels = { method: request.method, route: request.route?.path ?? 'unknown', status: String(status) };
    const seconds = (Date.now() - request.info.received) / 1000;
    if (latency) return latency.observe(labels, seconds);
    early.push({ labels, seconds });
    if (early.length >= earlyLimit) void load();
  });
  return {
    async scrape() {
      const registry = await load();
      return { text: await registry.metrics(), contentType: registry.contentType };
    },
  };
}
