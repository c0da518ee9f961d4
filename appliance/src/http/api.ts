// Routes of the REST API under /api/v1 share their defaults here: listed in the OpenAPI document
// (tag 'api'), and CSRF-checked by header (X-CSRF-Token) when called with the session cookie.
import type { ServerRoute } from '@hapi/hapi';

export const apiPrefix = '/api/v1';

export function apiRoute(route: ServerRoute): ServerRoute {
  const options = typeof route.options === 'object' ? route.options : {};
  return {
    ...route,
    path: `${apiPrefix}${route.path}`,
    options: {
      ...options,
      tags: ['api', ...(options.tags ?? [])],
      plugins: { ...options.plugins, crumb: { restful: true } },
    },
  };
}
