// `next` (after login, after the language switch) is a path on this site and nothing else, sent
// back percent-encoded; and an answer hapi has to replace at the last moment still carries the
// request id and the security headers.
import test from 'ava';
import { startServer, type TestServer } from '../helpers/server.ts';
import { loggedIn } from '../meetings/_booking.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer();
});
test.after.always(() => app?.stop());

test('a control character in next is refused with a page, not a crash', async (t) => {
  for (const next of ['/%01x', '/%09/evil.example', '/x%0D%0ASet-Cookie:%20a=b', '/%7F']) {
    const reply = await app.client().get(`/lang/sv?next=${next}`);
    t.is(reply.status, 400, next);
    t.truthy(reply.headers.get('x-request-id'));
  }
});

test('next that leads to another site, however it is written, is refused', async (t) => {
  for (const next of [
    '//evil.example',
    '/\\evil.example',
    '/..//evil.example',
    '/.//evil.example',
    'https://evil.example',
    'evil.example',
  ]) {
    t.is((await app.client().get(`/lang/en?next=${encodeURIComponent(next)}`)).status, 400, next);
    t.is((await app.client().get(`/login?next=${encodeURIComponent(next)}`)).status, 400, next);
  }
});

test('a path with letters outside Latin-1 is sent back percent-encoded, before and after login', async (t) => {
  const lang = await app.client().get('/lang/en?next=/calendar%3Fq%3D%E2%82%AC');
  t.is(lang.status, 302);
  t.is(lang.headers.get('location'), '/calendar?q=%E2%82%AC');
  const { client, staff } = await loggedIn(app);
  const asked = await client.get('/login?next=/%E2%82%AC');
  t.is(asked.status, 302);
  t.is(asked.headers.get('location'), '/%E2%82%AC');
  const posted = await client.submit('/login', {
    email: staff.email,
    password: 'rätt-häftklammer-42',
    next: '/€ och ö',
  });
  t.is(posted.status, 302);
  t.is(posted.headers.get('location'), '/%E2%82%AC%20och%20%C3%B6');
});

test('a response that fails at the last moment still carries the request id and the security headers', async (t) => {
  // A header Node refuses to write: hapi replaces the answer with a 500 after every extension ran.
  app.server.route({
    method: 'GET',
    path: '/test/broken-header',
    options: { auth: false },
    handler: (_r, h) => h.response('x').header('x-broken', 'a\u0001b'),
  });
  const reply = await app.client().get('/test/broken-header');
  t.is(reply.status, 500);
  t.regex(reply.headers.get('x-request-id') ?? '', /\S/);
  t.regex(reply.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  t.is(reply.headers.get('x-content-type-options'), 'nosniff');
  t.regex(reply.headers.get('cache-control') ?? '', /no-store/);
  t.notRegex(reply.text, /a\u0001b/);
});
