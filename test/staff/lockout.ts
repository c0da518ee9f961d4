// The lockouts hold when the guesses come all at once, on SQLite and on PostgreSQL, and a locked
// account answers exactly like an account that does not exist.
import test from 'ava';
import { findAudit } from '../../appliance/src/audit/store.ts';
import { everyDatabase } from '../helpers/databases.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

// Decided before any test is declared: ava wants every test declared synchronously after this.
const databases = await everyDatabase();
const servers: TestServer[] = [];
// Each test's browser comes from its own address through the proxy, so that the per-address login
// limit (30 in 15 minutes) counts each test on its own.
const from = (app: TestServer, address: string) => {
  const client = app.client();
  client.headers['x-forwarded-for'] = address;
  return client;
};
test.after.always(() => Promise.all(servers.map((s) => s.stop())));

for (const database of databases) {
  const started = startServer({ database, env: { LOGIN_MAX_FAILURES: '5', LOGIN_LOCKOUT_MINUTES: '15', TRUSTED_PROXIES: '127.0.0.1' } }).then((s) => {
    servers.push(s);
    return s;
  });

  test(`${database.kind}: 24 wrong passwords sent together with the right one leave the account locked`, async (t) => {
    const app = await started;
    const { staff, password } = await app.staff('clinician');
    const browser = from(app, '192.0.2.1');
    await browser.get('/login');
    const guesses = Array.from({ length: 24 }, (_, i) => `fel-${i}`);
    guesses.splice(12, 0, password);
    const replies = await Promise.all(guesses.map((guess) => browser.request('POST', '/login', { form: { crumb: browser.crumb!, email: staff.email, password: guess } })));
    for (const [i, reply] of replies.entries()) {
      if (guesses[i] !== password) t.is(reply.status, 401);
    }
    // Every try is counted before its password is checked: the burst gets five tries, not 25.
    const checked = await findAudit(app.server.app.db, { action: 'login.failed' });
    t.true(checked.filter((r) => r.targetId === staff.id).length < 10, 'no more wrong passwords are checked than two rounds of tries');
    const after = await from(app, '192.0.2.2').login(staff.email, password);
    t.is(after.status, 401, 'the account is locked: even the right password is refused now');
  });

  test(`${database.kind}: a locked account answers like an unknown one`, async (t) => {
    const app = await started;
    const { staff, password } = await app.staff('clinician');
    for (let i = 0; i < 5; i += 1) await from(app, '192.0.2.3').login(staff.email, `fel-${i}`);
    const locked = await from(app, '192.0.2.3').login(staff.email, password);
    const unknown = await from(app, '192.0.2.3').login(`nobody-${Date.now()}@region.example`, password);
    t.is(locked.status, unknown.status);
    const message = (text: string) => /role="alert"[^>]*>([^<]*)/.exec(text)?.[1];
    t.truthy(message(locked.text));
    t.is(message(locked.text), message(unknown.text));
  });
}
