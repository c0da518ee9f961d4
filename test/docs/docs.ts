import { createRequire } from 'node:module';
import test from 'ava';
import { createToken } from '../../appliance/src/staff/service.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer();
});
test.after.always(() => app?.stop());

// The docs plugin leaves swagger-parser unloaded at start (appliance/src/docs/index.ts): it must
// still be there, whole, for whoever calls it.
test('the API description is a valid OpenAPI document, checked by swagger-parser loaded on first use', async (t) => {
  const { staff } = await app.staff('clinician');
  const { token } = await createToken(app.server.app.db, staff.email, 'docs');
  const doc = (await app.client().get('/api/v1/openapi.json', { authorization: `Bearer ${token}` })).json();
  const parser = createRequire(createRequire(import.meta.url).resolve('hapi-swagger'))('swagger-parser') as {
    validate(doc: unknown): Promise<{ openapi: string }>;
  };
  const checked = await parser.validate(doc);
  t.is(checked.openapi, doc.openapi);
});

test('the docs page finds its description and Swagger UI files at the addresses it names', async (t) => {
  const { staff } = await app.staff('clinician');
  const { token } = await createToken(app.server.app.db, staff.email, 'docs page');
  const bearer = { authorization: `Bearer ${token}` };
  const page = await app.client().get('/api/docs', bearer);
  t.is(page.status, 200);
  t.true(page.text.includes('"/api/v1/openapi.json"'), 'the page asks for the API description at its address');
  const files = [...page.text.matchAll(/(?:src|href)="(\/api\/docs\/ui\/[^"?]+)/g)].map((m) => m[1]!);
  t.true(files.length >= 3, `the page loads Swagger UI's files: ${files.join(', ')}`);
  for (const file of files) t.is((await app.client().get(file, bearer)).status, 200, file);
  t.is((await app.client().get('/api/v1/openapi.json', bearer)).status, 200);
});

// hapi-swagger puts a deep copy of its settings into the context of every view the server renders,
// unless a route prefix tells it which paths are its own (appliance/src/docs/index.ts).
test("the docs' settings are put only into the docs page, not into every page the appliance renders", async (t) => {
  const contexts = new Map<string, boolean>();
  app.server.ext('onPreResponse', (request, h) => {
    const response = request.response as { variety?: string; source?: { context?: Record<string, unknown> } };
    if (response.variety === 'view') contexts.set(request.path, 'hapiSwagger' in (response.source?.context ?? {}));
    return h.continue;
  });
  const { staff } = await app.staff('clinician');
  const { token } = await createToken(app.server.app.db, staff.email, 'docs context');
  t.is((await app.client().get('/login')).status, 200);
  t.is((await app.client().get('/api/docs', { authorization: `Bearer ${token}` })).status, 200);
  t.deepEqual(Object.fromEntries(contexts), { '/login': false, '/api/docs': true });
});
