// The lockouts hold when the guesses come all at once, on SQLite and on PostgreSQL, and a locked
// account answers exactly like an account that does not exist.
import test from 'ava';
import { findAudit } from '../../appliance/src/audit/store.ts';
import { everyDatabase } from '../helpers/databases.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { delivered, startSmsc, type Arrival, type TestSmsc } from '../helpers/smsc.ts';
import { present } from '../helpers/present.ts';
import { until } from '../helpers/wait.ts';
import { booking, loggedIn } from '../meetings/_booking.ts';

// One burst at a time: each is the parallel load under test, and several together on a busy
// machine only make PostgreSQL's new connections wait.
// Decided before any test is declared: ava wants every test declared synchronously after this.
const databases = await everyDatabase();
const servers: TestServer[] = [];
const smsc: Promise<TestSmsc> = startSmsc(delivered('l'));
test.after.always(async () => (await smsc).close());
const textOf = (a: Arrival) => {
  const sm = a.pdu.short_message as { message?: string } | string;
  return typeof sm === 'string' ? sm : String(sm.message ?? '');
};
// Each test's browser comes from its own address through the proxy, so that the per-address login
// limit (30 in 15 minutes) counts each test on its own.
const from = (app: TestServer, address: string) => {
  const client = app.client();
  client.headers['x-forwarded-for'] = address;
  return client;
};
test.after.always(() => Promise.all(servers.map((s) => s.stop())));

for (const database of databases) {
  // Started by this database's first test, so that it does not sit idle while the others run.
  let starting: Promise<TestServer> | undefined;
  const server = () =>
    (starting ??= smsc
      .then((gateway) =>
        startServer({
          database,
          env: {
            LOGIN_MAX_FAILURES: '5',
            LOGIN_LOCKOUT_MINUTES: '15',
            TRUSTED_PROXIES: '127.0.0.1',
            SMPP_URL: gateway.url,
            REMINDER_OFFSETS: 'none',
          },
        }),
      )
      .then((s) => {
        servers.push(s);
        return s;
      }));

  test.serial(
    `${database.kind}: 24 wrong passwords sent together with the right one leave the account locked`,
    async (t) => {
      const app = await server();
      const { staff, password } = await app.staff('clinician');
      const browser = from(app, '192.0.2.1');
      await browser.get('/login');
      const guesses = Array.from({ length: 24 }, (_, i) => `fel-${i}`);
      guesses.splice(12, 0, password);
      const replies = await Promise.all(
        guesses.map((guess) =>
          browser.request('POST', '/login', { form: { crumb: browser.crumb!, email: staff.email, password: guess } }),
        ),
      );
      for (const [i, reply] of replies.entries()) {
        if (guesses[i] !== password) t.is(reply.status, 401);
      }
      // Every try is counted before its password is checked: the burst gets five tries, not 25.
      const checked = await findAudit(app.server.app.db, { action: 'login.failed' });
      t.true(
        checked.filter((r) => r.targetId === staff.id).length < 10,
        'no more wrong passwords are checked than two rounds of tries',
      );
      const after = await from(app, '192.0.2.2').login(staff.email, password);
      t.is(after.status, 401, 'the account is locked: even the right password is refused now');
    },
  );

  test.serial(`${database.kind}: a locked account answers like an unknown one`, async (t) => {
    const app = await server();
    const { staff, password } = await app.staff('clinician');
    for (let i = 0; i < 5; i += 1) await from(app, '192.0.2.3').login(staff.email, `fel-${i}`);
    const locked = await from(app, '192.0.2.3').login(staff.email, password);
    const unknown = await from(app, '192.0.2.3').login(`nobody-${Date.now()}@region.example`, password);
    t.is(locked.status, 401);
    t.is(unknown.status, 401);
    const message = (text: string) => /role="alert"[^>]*>([^<]*)/.exec(text)?.[1];
    t.truthy(message(locked.text));
    t.is(message(locked.text), message(unknown.text));
  });

  test.serial(
    `${database.kind}: 19 wrong SMS codes sent together with the right one get five tries, not twenty`,
    async (t) => {
      const app = await server();
      const i = databases.indexOf(database);
      const gateway = await smsc;
      const number = `070765440${i}`;
      const { client } = await loggedIn(app);
      await client.request('POST', '/api/v1/meetings', {
        json: booking({
          participants: [{ kind: 'patient', name: 'Sara Lind', mobile: number, identification: 'sms' }],
        }),
      });
      const to = (n: string) =>
        gateway.arrivals.filter((a) => a.pdu.destination_addr === `46${n.slice(1)}`).map(textOf);
      const path = await until('the invitation', () => /\/j\/[\w-]{24}/.exec(to(number).join(''))?.[0]);
      const guest = from(app, `198.51.100.${20 + i}`);
      await guest.get(path);
      const named = await guest.request('POST', '/j', {
        form: { crumb: guest.crumb!, token: path.slice(3), name: 'Sara Lind' },
      });
      t.is(named.status, 302);
      await guest.get('/entry/code');
      const sms = await until('the code', () => to(number).find((x) => x.startsWith('Din kod')));
      const code = present(/: (\d{6})\./.exec(sms)?.[1], 'the six digits in the SMS');
      const codes = Array.from({ length: 19 }, (_, k) => String((Number(code) + k + 1) % 1_000_000).padStart(6, '0'));
      codes.splice(15, 0, code);
      const replies = await Promise.all(
        codes.map((c) => guest.request('POST', '/entry/code', { form: { crumb: guest.crumb!, code: c } })),
      );
      const wrong = replies.filter((r) => /Fel kod\./.test(r.text)).length;
      t.true(wrong <= 4, `${wrong} wrong codes were answered "wrong, tries left": no more than four may be`);
      // The right code is answered with the technical test page itself.
      const right = present(replies[15], 'the answer to the right code');
      const accepted = right.status === 200 && /Starta testet/.test(right.text) ? 1 : 0;
      const spent = replies.filter((r) => /Koden har angetts fel för många gånger/.test(r.text)).length;
      t.is(wrong + spent + accepted, 20, 'every try answered: wrong, out of tries, or (within the five) right');
    },
  );
}
