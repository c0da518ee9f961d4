// The REST API's OpenAPI document at /api/v1/openapi.json and a browsable page at /api/docs, for
// logged-in staff and API tokens.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Plugin } from '@hapi/hapi';
import type HapiSwagger from 'hapi-swagger';
import { apiPrefix } from '../http/api.ts';
import { must } from '../common/must.ts';

/**
 * hapi-swagger asks swagger-ui-dist only for the folder of its files, but swagger-ui-dist's main
 * module first evaluates 2 MB of browser bundles (about 20 MB of the idle process and a few hundred
 * ms of every start). The folder is all we give it: the files are still served from there.
 * It also loads at once two libraries it calls only on request, and only with options we leave off:
 * swagger-parser (its `debug` check of the document: with z-schema and validator a tenth of a
 * start) and json-schema-ref-parser (`deReference`). Each is loaded when first called instead.
 */
async function loadHapiSwagger(): Promise<typeof HapiSwagger> {
  const require = createRequire(import.meta.url);
  const swaggerRequire = createRequire(require.resolve('hapi-swagger'));
  const swaggerUi = swaggerRequire.resolve('swagger-ui-dist');
  const absolutePath = require(join(dirname(swaggerUi), 'absolute-path.js')) as () => string;
  cached(require, swaggerUi, { getAbsoluteFSPath: absolutePath, absolutePath });
  for (const [name, functions] of [
    ['swagger-parser', ['validate']],
    ['@apidevtools/json-schema-ref-parser', ['dereference']],
  ] as const) {
    const path = swaggerRequire.resolve(name);
    const real = () => {
      // The placeholder makes way for the library itself, which from then on answers every call.
      if (require.cache[path]?.exports === placeholder) delete require.cache[path];
      return require(path) as Record<string, (...args: unknown[]) => unknown>;
    };
    const placeholder = Object.fromEntries(
      functions.map((f) => [
        f,
        // Called on the library, as a static method expects (swagger-parser's `validate` uses `this`).
        (...args: unknown[]) => {
          const library = real();
          return must(library[f], `${path} exports ${f}`).apply(library, args);
        },
      ]),
    );
    cached(require, path, placeholder);
  }
  return (await import('hapi-swagger')).default;
}

/** What `require(path)` returns from now on, unless the module is loaded already. */
function cached(require: NodeJS.Require, path: string, exports: object): void {
  require.cache[path] ??= { id: path, filename: path, loaded: true, exports } as NodeJS.Module;
}

/**
 * hapi-swagger is registered under this prefix, and its own paths are given without it: the URLs
 * stay /api/docs and /api/v1/openapi.json. The prefix is what keeps it off the other pages: on
 * every view response of the server it deep-clones and serialises its settings into the view's
 * context for its docs page, unless it has a route prefix the request's path lies outside: that
 * was a tenth of a calendar week page's CPU and a sixth of the login page's (measured).
 */
const docsPrefix = '/api';
const withinDocs = (path: string): string => {
  if (!path.startsWith(`${docsPrefix}/`)) throw new Error(`${path} is outside ${docsPrefix}`);
  return path.slice(docsPrefix.length);
};

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
      jsonPath: withinDocs(`${apiPrefix}/openapi.json`),
      documentationPath: withinDocs('/api/docs'),
      swaggerUIPath: withinDocs('/api/docs/ui/'),
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
      // need a map of the API. Swagger UI's own files (under /api/docs/ui/) ask the same.
      // The token first: the session strategy sends a person without a cookie to the login page.
      auth: { strategies: ['token', 'session'] },
      documentationRouteTags: ['docs'],
      routeTag: 'api',
    };
    await server.register({ plugin: await loadHapiSwagger(), options }, { routes: { prefix: docsPrefix } });
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
