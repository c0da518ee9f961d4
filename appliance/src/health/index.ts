// Operations: liveness, readiness (the database and each configured adapter) and Prometheus metrics.
import Boom from '@hapi/boom';
import type { Plugin } from '@hapi/hapi';
import { sameSecret } from '../crypto.ts';
import { registerMetrics } from './metrics.ts';
import { headerText } from '../http/headers.ts';

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
        // No personal data, but request rates and route timings tell an outsider what goes on:
        // the hospital's monitoring reads them with METRICS_TOKEN, an admin with their login.
        options: {
          auth: { strategies: ['session', 'token'], mode: 'try' },
          plugins: { cookie: { redirectTo: false } },
          description: 'Prometheus metrics (METRICS_TOKEN or an admin)',
        },
        async handler(request, h) {
          const { metricsToken } = request.server.app.config;
          const presented = /^Bearer\s+(\S+)$/i.exec(headerText(request, 'authorization'))?.[1];
          const byToken = metricsToken !== undefined && presented !== undefined && sameSecret(presented, metricsToken);
          const byAdmin = request.auth.isAuthenticated && request.auth.credentials.user?.role === 'admin';
          if (!byToken && !byAdmin) {
            if (request.auth.isAuthenticated) throw Boom.forbidden('Metrics are for admins and the monitoring token');
            throw Boom.unauthorized('Send Authorization: Bearer <METRICS_TOKEN>, or log in as an admin', 'Bearer');
          }
          const { text, contentType } = await metrics.scrape();
          return h.response(text).type(contentType);
        },
      },
    ]);
  },
};
