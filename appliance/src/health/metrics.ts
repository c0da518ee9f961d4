// Prometheus metrics: HTTP latency per route and the process's own figures. One registry per
// server, so that several servers in one process (the tests) do not share counters.
import type { Request, Server } from '@hapi/hapi';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export function registerMetrics(server: Server): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const latency = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  server.events.on('response', (request: Request) => {
    const status = (request.response as { statusCode?: number } | null)?.statusCode ?? 0;
    // The route pattern, not the path: one series per route, not per meeting id.
    const route = request.route?.path ?? 'unknown';
    latency.observe(
      { method: request.method, route, status: String(status) },
      (Date.now() - request.info.received) / 1000,
    );
  });
  return registry;
}
