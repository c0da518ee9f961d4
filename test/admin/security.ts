// Security headers on every kind of response: a strict Content-Security-Policy, no framing, no
// MIME sniffing, HSTS when the appliance is reached over https, and no referrer from token pages.
import test from 'ava';
import { startServer, type TestServer } from '../helpers/server.ts';
import { until } from '../helpers/wait.ts';
import { booking, loggedIn, teacherByEmail } from '../meetings/_booking.ts';

let https: TestServer;
let plain: TestServer;
test.before(async () => {
  https = await startServer({ env: { PUBLIC_URL: 'https://samverka.region.example' } });
  plain = await startServer();
});
test.after.always(async () => {
  await https?.stop();
  await plain?.stop();
});

const paths = ['/login', '/health/live', '/static/app.css', '/no/such/page', '/api/v1/me', '/admin/status'];

test('every response carries the CSP, nosniff and no framing; HSTS only over https', async (t) => {
  const { client } = await loggedIn(https, 'admin');
  for (const path of paths) {
    for (const caller of [https.client(), client]) {
      const reply = await caller.get(path);
      const csp = reply.headers.get('content-security-policy') ?? '';
      t.regex(csp, /default-src 'self'/, path);
      t.regex(csp, /frame-ancestors 'none'/, path);
      t.notRegex(csp, /unsafe-inline|unsafe-eval|\*/, path);
      t.is(reply.headers.get('x-content-type-options'), 'nosniff', path);
      t.is(reply.headers.get('x-frame-options'), 'DENY', path);
      t.is(reply.headers.get('strict-transport-security'), 'max-age=31536000; includeSubDomains', path);
    }
  }
  const overHttp = await plain.client().get('/login');
  t.is(overHttp.headers.get('strict-transport-security'), null, 'no HSTS for a plain-http PUBLIC_URL');
});

test('session cookies are HttpOnly, SameSite and Secure over https', async (t) => {
  const { staff, password } = await https.staff('clinician');
  const client = https.client();
  const reply = await client.login(staff.email, password);
  const session = reply.headers.getSetCookie().find((c) => c.startsWith('samverka_sid='));
  t.regex(session ?? '', /HttpOnly/);
  t.regex(session ?? '', /SameSite=Lax/);
  t.regex(session ?? '', /Secure/);
});

test('a page carrying a guest token sends no referrer and is not cached', async (t) => {
  const { client } = await loggedIn(plain, 'clinician');
  const email = `eva.${Date.now()}@skola.example`;
  await client.request('POST', '/api/v1/meetings', {
    json: booking({ participants: [booking().participants[0], { ...teacherByEmail, email }] }),
  });
  // The built-in development mail sink holds what was sent; the link is in the mail to the teacher.
  const link = await until(`the mail to ${email}`, () => {
    const mail = plain.server.plugins.invites.captured().mail.find((m) => m.to.includes(email));
    return /\/j\/[\w-]{20,}/.exec(mail?.text ?? '')?.[0];
  });
  const chrome =
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';
  const reply = await plain.client().get(link, { 'user-agent': chrome });
  t.is(reply.status, 200);
  t.is(reply.headers.get('referrer-policy'), 'no-referrer');
  t.regex(reply.headers.get('cache-control') ?? '', /no-store/);
});
