// The REST API's OpenAPI document at /api/v1/openapi.json and a browsable page at /api/docs, for
// logged-in staff and API tokens.
import type { Plugin } from '@hapi/hapi';
import HapiSwagger from 'hapi-swagger';
import { apiPrefix } from '../http/api.ts';

export const plugin: Plugin<void> = {
  name: 'docs',
  async register(server) {
    const options: HapiSwagger.RegisterOptions = {
      info: { title: 'Samverka API', version: '1', description: 'Booking, invitations and connection logs for digital care meetings.' },
      OAS: 'v3.0',
      jsonPath: `${apiPrefix}/openapi.json`,
      documentationPath: '/api/docs',
      swaggerUIPath: '/api/docs/ui/',
      grouping: 'tags',
      basePath: apiPrefix,
      pathPrefixSize: 3,
      securityDefinitions: {
        bearer: { type: 'apiKey', name: 'Authorization', in: 'header', description: 'Bearer <token> from "samverka token create"' },
      },
      security: [{ bearer: [] }],
      // Staff and the hospital's systems (API tokens) read the description; the public does not
      // need a map of the API. Swagger UI's own files stay public like any static file.
      // The token first: the session strategy sends a person without a cookie to the login page.
      auth: { strategies: ['token', 'session'] },
      documentationRouteTags: ['docs'],
      routeTag: 'api',
    };
    await server.register({ plugin: HapiSwagger, options });
    // The docs page is swagger-ui with its own inline script: it gets a policy of its own.
    for (const route of server.table()) {
      if (route.path.startsWith('/api/docs')) {
        route.settings.plugins = { ...route.settings.plugins, csp: "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'" };
      }
    }
  },
};
