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
