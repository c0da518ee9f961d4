// The documents name routes (`/admin/staff`, `GET /health/ready`, `PATCH /api/v1/meetings/{id}`…):
// each one named must be a route the server registers, so that a renamed or removed route cannot
// live on in them. Who may call each route is in the permission table of test/permissions.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { projectRoot } from '../../appliance/src/config.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const documents = ['README.md', 'ARCHITECTURE.md', 'provisioning/INSTALL.md'];

let app: TestServer;
test.before(async () => {
  // With an identity provider configured its routes are registered too; it is never asked here.
  app = await startServer({
    env: { OIDC_ISSUER: 'http://127.0.0.1:9', OIDC_CLIENT_ID: 'samverka', OIDC_CLIENT_SECRET: 'secret' },
  });
});
test.after.always(() => app?.stop());

/** A registered path as a pattern: `{id}` stands for one segment, `{file*}` for the rest. */
const patternOf = (path: string) =>
  new RegExp(`^${path.replace(/\{[^}]+\*\}/g, '.+').replace(/\{[^}]+\}/g, '[^/]+')}$`);

/** Every path in backticks in a document, with its method if one is named ("GET /calendar"). */
function mentionsIn(text: string): { method?: string; path: string }[] {
  return [...text.matchAll(/`(?:(GET|POST|PATCH|DELETE|PUT)\s+)?(\/[^`\s]*)`/g)].map(([, method, path]) => ({
    ...(method ? { method: method.toLowerCase() } : {}),
    path: path!,
  }));
}

test('every route the documents name is one the server registers', async (t) => {
  const routes = app.server.table().filter((r) => r.method !== 'options');
  const firstSegments = new Set(routes.map((r) => r.path.split('/')[1]));
  let checked = 0;
  for (const document of documents) {
    const text = readFileSync(join(projectRoot, document), 'utf8');
    for (const mention of mentionsIn(text)) {
      // Files and folders of a host (`/etc/samverka/…`) are not routes: a route starts with a first
      // segment some registered route has.
      if (!firstSegments.has(mention.path.split('/')[1]?.replace(/[?…*].*$/, ''))) continue;
      // `/login?bye=true`, `/e/…`, `/health/*`, `/static/`: the path, or what the routes under it start with.
      const path = mention.path.replace(/\?.*$/, '').replace(/[…*]$/, '');
      const named = routes.filter((r) => !mention.method || r.method === mention.method);
      const registered = named.some(
        (r) =>
          patternOf(r.path).test(path) ||
          (path.endsWith('/') ? r.path.startsWith(path) : r.path.startsWith(`${path}/`) && mention.path === path),
      );
      t.true(
        registered,
        `${document} names ${[mention.method?.toUpperCase(), mention.path].filter(Boolean).join(' ')}, which is not registered`,
      );
      checked += 1;
    }
  }
  t.true(checked > 30, `the documents' routes were read (${checked})`);
});
