// Builds the hapi server: the cross-cutting pieces (logging, errors, security, views, auth) and
// then every domain plugin listed in plugins.ts.
import Boom from '@hapi/boom';
import Hapi, { type Server } from '@hapi/hapi';
import Joi from 'joi';
import Inert from '@hapi/inert';
import { join } from 'node:path';
import './app.ts';
import { projectRoot, type Config } from './config.ts';
import { EventBus } from './events.ts';
import { HealthRegistry } from './common/readiness.ts';
import { registerClientAddress } from './http/client-address.ts';
import { registerErrorFunnel, validationFailed } from './http/errors.ts';
import { registerLogging } from './http/logging.ts';
import { registerSecurityHeaders } from './http/security.ts';
import { registerEventStreams } from './http/sse.ts';
import { registerViews } from './http/views.ts';
import { plugins } from './plugins.ts';

export interface ServerOptions {
  /** Where JSON logs go (stdout by default); tests pass a stream to read what was logged. */
  logStream?: NodeJS.WritableStream;
}

export async function createServer(config: Config, options: ServerOptions = {}): Promise<Server> {
  const https = config.publicUrl.protocol === 'https:';
  const server = Hapi.server({
    host: config.host,
    port: config.port,
    routes: {
      validate: { failAction: validationFailed, options: { abortEarly: false } },
      payload: { maxBytes: 256 * 1024 },
      security: {
        hsts: https ? { maxAge: 31536000, includeSubDomains: true } : false,
        xframe: 'deny',
        noSniff: true,
        referrer: 'same-origin',
        xss: 'disabled',
      },
      files: { relativeTo: projectRoot },
      // Pages and answers carry meeting and personal data: no browser, proxy or back button keeps
      // a copy. Only the static files (below) say otherwise.
      cache: { otherwise: 'no-store' },
    },
    router: { stripTrailingSlash: true },
    // Behind the hospital's proxy the appliance is reached through PUBLIC_URL.
    info: { remote: true },
    debug: false,
  });

  server.app.config = config;
  server.app.health = new HealthRegistry();
  server.app.bus = new EventBus((event, error) => server.log(['error', 'bus'], { event, err: error }));

  registerClientAddress(server, config.trustedProxies);
  await registerLogging(server, config.logLevel, options.logStream);
  await server.register(Inert);
  await registerViews(server);
  registerErrorFunnel(server);
  registerSecurityHeaders(server);
  registerEventStreams(server);

  server.route({
    method: 'GET',
    path: '/static/{file*}',
    options: {
      auth: false,
      cache: { expiresIn: 3600 * 1000, privacy: 'public' },
      // File names the file system could choke on (too long, odd characters) are simply not found.
      validate: {
        params: Joi.object({
          file: Joi.string()
            .max(200)
            .pattern(/^[\w][\w.-]*(\/[\w][\w.-]*)*$/),
        }),
        failAction: () => {
          throw Boom.notFound();
        },
      },
    },
    handler: {
      directory: {
        path: [join(projectRoot, 'admin', 'static'), join(projectRoot, 'dist', 'static')],
        redirectToSlash: false,
        index: false,
      },
    },
  });

  for (const plugin of plugins) {
    await server.register(plugin);
  }
  return server;
}
