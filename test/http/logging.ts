import test from 'ava';
import { redactUrl } from '../../appliance/src/http/logging.ts';
import { startServer } from '../helpers/server.ts';

test('tokens, codes and guest links are cut out of logged URLs', (t) => {
  t.is(redactUrl('/j/abcDEF123?lang=sv'), '/j/[redacted]?lang=sv');
  t.is(redactUrl('/callback?code=123456&state=xyz&lang=en'), '/callback?code=[redacted]&state=[redacted]&lang=en');
  t.is(redactUrl('/api/v1/x?token=smv_abc'), '/api/v1/x?token=[redacted]');
});

test('no secret reaches a log line: authorization header, cookies, passwords, query tokens', async (t) => {
  const app = await startServer();
  try {
    const { staff, password } = await app.staff('clinician');
    const browser = app.client();
    await browser.login(staff.email, password);
    const sid = browser.cookies.get('samverka_sid')!;
    await app.client().get('/api/v1/me', { authorization: 'Bearer smv_supersecrettoken' });
    await app.client().get('/login?next=/x&token=leaky-token-value');
    await app.client().get('/j/guest-link-token-value');
    const logs = app.logs();
    t.true(logs.length > 0);
    for (const secret of [
      password,
      sid,
      'smv_supersecrettoken',
      'leaky-token-value',
      'guest-link-token-value',
      app.config.sessionSecret,
    ]) {
      t.false(logs.includes(secret), `log contains ${secret.slice(0, 12)}…`);
    }
    t.true(logs.includes('/j/[redacted]'));
  } finally {
    await app.stop();
  }
});
