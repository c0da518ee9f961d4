import test from 'ava';
import { startServer, type TestServer } from '../helpers/server.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer();
  app.server.route({
    method: 'GET',
    path: '/api/v1/test-crash',
    options: { auth: false },
    handler() {
      throw new Error('database password is hunter2');
    },
  });
  app.server.route({
    method: 'GET',
    path: '/test-crash-page',
    options: { auth: false },
    handler() {
      throw new Error('secret internals');
    },
  });
});
test.after.always(() => app?.stop());

test('an unknown error is a 500 with a request id and no internals; the log has the details', async (t) => {
  const reply = await app.client().get('/api/v1/test-crash');
  t.is(reply.status, 500);
  const body = reply.json();
  t.is(body.message, 'An internal server error occurred');
  t.is(body.requestId, reply.headers.get('x-request-id'));
  t.false(reply.text.includes('hunter2'));
  t.false(reply.text.includes('at '), 'no stack trace');
  t.true(app.logs().includes(body.requestId));
  t.true(app.logs().includes('database password is hunter2'));
});

test('pages get a Swedish error page with the error code', async (t) => {
  const crash = await app.client().get('/test-crash-page');
  t.is(crash.status, 500);
  t.regex(crash.text, /Ett oväntat fel inträffade/);
  t.regex(crash.text, new RegExp(crash.headers.get('x-request-id')!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  t.false(crash.text.includes('secret internals'));
  const missing = await app.client().get('/no-such-page');
  t.is(missing.status, 404);
  t.regex(missing.text, /Sidan finns inte/);
});

test('a joi failure in the API is a 400 naming the field', async (t) => {
  const reply = await app.client().get('/lang/xx');
  t.is(reply.status, 400);
  const api = await app.client().request('GET', '/api/v1/openapi.json?x=1');
  t.not(api.status, 500);
});

test('every response carries the security headers', async (t) => {
  const reply = await app.client().get('/login');
  t.regex(reply.headers.get('content-security-policy')!, /default-src 'self'.*frame-ancestors 'none'/);
  t.is(reply.headers.get('x-frame-options'), 'DENY');
  t.is(reply.headers.get('x-content-type-options'), 'nosniff');
  t.is(reply.headers.get('referrer-policy'), 'same-origin');
});

test('request bodies over the limit are refused with 413', async (t) => {
  const reply = await app.client().request('POST', '/login', {
    body: 'x'.repeat(300 * 1024),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  t.is(reply.status, 413);
});
