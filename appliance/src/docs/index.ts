// The REST API's OpenAPI document at /api/v1/openapi.json and a browsable page at /api/docs, for
// logged-in staff and API tokens.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Plugin } from '@hapi/hapi';
import type HapiSwagger from 'hapi-swagger';
import { apiPrefix } from '../http/api.ts';

/**
 * hapi-swagger asks swagger-ui-dist only for the folder of its files, but swagger-ui-dist's main
 * module first evaluates 2 MB of browser bundles (about 20 MB of the idle process and a few hundred
 * ms of every start). The folder is all we give it: the files are still served from there.
 */
async function loadHapiSwagger(): Promise<typeof HapiSwagger> {
  const require = createRequire(import.meta.url);
  const swaggerUi = createRequire(require.resolve('hapi-swagger')).resolve('swagger-ui-dist');
  const absolutePath = require(join(dirname(swaggerUi), 'absolute-path.js')) as () => string;
  require.cache[swaggerUi] ??= {
    id: swaggerUi,
    filename: swaggerUi,
    loaded: true,
    exports: { getAbsoluteFSPath: absolutePath, absolutePath },
  } as NodeJS.Module;
  return (await import('hapi-swagger')).default;
}

export const plugin: Plugin<void> = {
  name: 'docs',
  async register(server) {
    const options: HapiSwagger.RegisterOptions = {
      info: {
        title: 'Samverka API',
        version: '1',
        description: 'Booking, invitations and connection logs for digital care meetings.',
      },
      OAS: 'v3.0',
      jsonPath: `${apiPrefix}/openapi.json`,
      documentationPath: '/api/docs',
      swaggerUIPath: '/api/docs/ui/',
      grouping: 'tags',
      basePath: apiPrefix,
      pathPrefixSize: 3,
      securityDefinitions: {
        bearer: {
          type: 'apiKey',
          name: 'Authorization',
          in: 'header',
          description: 'Bearer <token> from "samverka token create"',
        },
      },
      security: [{ bearer: [] }],
      // Staff and the hospital's systems (API tokens) read the description; the public does not
      // need a map of the API. Swagger UI's own files stay public like any static file.
      // The token first: the session strategy sends a person without a cookie to the login page.
      auth: { strategies: ['token', 'session'] },
      documentationRouteTags: ['docs'],
      routeTag: 'api',
    };
    await server.register({ plugin: await loadHapiSwagger(), options });
    // The docs page is swagger-ui with its own inline script: it gets a policy of its own.
    for (const route of server.table()) {
      if (route.path.startsWith('/api/docs')) {
        route.settings.plugins = {
          ...route.settings.plugins,
          csp: "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
        };
      }
    }
  },
};
