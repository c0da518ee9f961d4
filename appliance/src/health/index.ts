// Operations: liveness, readiness (the database and each configured adapter) and Prometheus metrics.
import type { Plugin } from '@hapi/hapi';
import { registerMetrics } from './metrics.ts';

export const plugin: Plugin<void> = {
  name: 'health',
  dependencies: ['db'],
  register(server) {
    const metrics = registerMetrics(server);
    server.route([
      {
        method: 'GET',
        path: '/health/live',
        options: { auth: false, description: 'The process is up' },
        handler: () => ({ ok: true }),
      },
      {
        method: 'GET',
        path: '/health/ready',
        options: { auth: false, description: 'The database and each configured part are reachable' },
        async handler(request, h) {
          const state = await request.server.app.health.run();
          return h.response(state).code(state.ok ? 200 : 503);
        },
      },
      {
        method: 'GET',
        path: '/metrics',
        // Scraped from the hospital's monitoring inside its network; holds no personal data.
        options: { auth: false, description: 'Prometheus metrics' },
        async handler(_request, h) {
          return h.response(await metrics.metrics()).type(metrics.contentType);
        },
      },
    ]);
  },
};
