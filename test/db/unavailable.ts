// When the database cannot be had - PostgreSQL restarting, full, or out of reach - a request waits
// a bounded time for a connection and is answered 503 with Retry-After: never a wrong answer
// (a limit that looks spent, a login that looks refused) and never a 500. When the database is
// back, the same requests succeed without a restart.
import test from 'ava';
import knex from 'knex';
import { postgresDatabase } from '../helpers/databases.ts';
import { startServer } from '../helpers/server.ts';

const enabled = Boolean(process.env.TEST_DATABASE_URL) && process.env.TEST_DB !== 'sqlite';

(enabled ? test : test.skip)(
  'a request that cannot get a database connection is answered 503 with Retry-After, and works again once it can',
  async (t) => {
    const database = (await postgresDatabase())!;
    const app = await startServer({ database });
    const name = new URL(database.url).pathname.slice(1);
    const admin = knex({ client: 'pg', connection: process.env.TEST_DATABASE_URL, pool: { min: 0, max: 1 } });
    try {
      const { staff, password } = await app.staff('clinician');
      const clinician = app.client();
      t.is((await clinician.login(staff.email, password)).status, 302);
      t.is((await clinician.get('/api/v1/me')).status, 200);

      // The database refuses new connections and drops the ones it has, as a restarting server does.
      await admin.raw(`alter database ${name} allow_connections false`);
      await admin.raw('select pg_terminate_backend(pid) from pg_stat_activity where datname = ?', [name]);

      const api = await clinician.get('/api/v1/me');
      t.is(api.status, 503, `${api.status}: ${app.logs().slice(-2000)}`);
      t.regex(api.json<{ message: string }>().message, /database cannot be reached just now/);
      t.is(api.headers.get('retry-after'), '5');
      t.truthy(api.headers.get('x-request-id'));
      const page = await clinician.get('/calendar');
      t.is(page.status, 503, `${page.status} ${page.headers.get('location') ?? ''}: ${app.logs().slice(-2000)}`);
      t.regex(page.text, /Tjänsten är inte tillgänglig just nu/);
      const login = await app.client().login(staff.email, password);
      t.is(login.status, 503, 'a login that cannot be checked is not told the password was wrong');
      t.regex(app.logs(), /database unavailable/);

      await admin.raw(`alter database ${name} allow_connections true`);
      t.is((await clinician.get('/api/v1/me')).status, 200, 'the same session works again');
    } finally {
      await admin.raw(`alter database ${name} allow_connections true`).catch(() => undefined);
      await admin.destroy();
      await app.stop();
    }
  },
);
