// Routes of the REST API under /api/v1 share their defaults here: listed in the OpenAPI document
// (tag 'api'), and CSRF-checked by header (X-CSRF-Token) when called with the session cookie.
// Their handlers read params, query and payload typed by their schemas (route.ts).
import type { RouteOptionsValidate, ServerRoute } from '@hapi/hapi';
import { route, type TypedRoute } from './route.ts';

export const apiPrefix = '/api/v1';

export function apiRoute<Path extends string, V extends RouteOptionsValidate = object>(
  typed: TypedRoute<Path, V>,
): ServerRoute {
  const api = route(typed);
  const options = typeof api.options === 'object' ? api.options : {};
  return {
    ...api,
    path: `${apiPrefix}${api.path}`,
    options: {
      ...options,
      tags: ['api', ...(options.tags ?? [])],
      plugins: { ...options.plugins, crumb: { restful: true } },
    },
  };
}
