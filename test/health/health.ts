import test from 'ava';
import { startServer, type TestServer } from '../helpers/server.ts';
import { loggedIn } from '../meetings/_booking.ts';

const metricsToken = 'm'.repeat(40);
let app: TestServer;
test.before(async () => {
  app = await startServer({ env: { METRICS_TOKEN: metricsToken } });
});
test.after.always(() => app?.stop());

test('live answers without authentication', async (t) => {
  const reply = await app.client().get('/health/live');
  t.is(reply.status, 200);
  t.deepEqual(reply.json(), { ok: true });
});

test('ready reports each part; the database is one of them', async (t) => {
  const reply = await app.client().get('/health/ready');
  t.is(reply.status, 200);
  const body = reply.json();
  t.true(body.ok);
  // On PostgreSQL it also says whether this process leads (alone on its database, it does).
  const detail = app.config.databaseUrl.startsWith('sqlite:')
    ? 'SQLite open'
    : 'PostgreSQL reachable; this process leads';
  t.deepEqual(body.parts.database, { ok: true, detail });
});

test('ready answers 503 and names the part when one is unhealthy or does not answer', async (t) => {
  const other = await startServer();
  try {
    other.server.app.health.add('smtp relay', async () => ({
      ok: false,
      detail: 'connection refused by relay.example:25',
    }));
    other.server.app.health.add('slow part', () => new Promise(() => {}));
    const reply = await other.client().get('/health/ready');
    t.is(reply.status, 503);
    const body = reply.json();
    t.false(body.ok);
    t.deepEqual(body.parts['smtp relay'], { ok: false, detail: 'connection refused by relay.example:25' });
    t.regex(body.parts['slow part'].detail, /no answer within/);
    t.true(body.parts.database.ok);
  } finally {
    await other.stop();
  }
});

test('metrics are in Prometheus format with a latency histogram per route pattern', async (t) => {
  await app.client().get('/login');
  await app.client().get('/lang/en?next=/login');
  const reply = await app.client().get('/metrics', { authorization: `Bearer ${metricsToken}` });
  t.is(reply.status, 200);
  t.regex(reply.headers.get('content-type')!, /text\/plain/);
  t.regex(reply.text, /http_request_duration_seconds_bucket\{[^}]*method="get",route="\/login",status="200"/);
  t.regex(reply.text, /route="\/lang\/\{lang\}"/);
  t.regex(reply.text, /process_resident_memory_bytes/);
});

test('metrics say how many writes shared how many commits', async (t) => {
  const figure = (text: string, name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
  const scrape = async () => (await app.client().get('/metrics', { authorization: `Bearer ${metricsToken}` })).text;
  const { client } = await loggedIn(app, 'clinician');
  const before = await scrape();
  // A page view's audit record rides the group commit (on SQLite every change does too).
  t.is((await client.get('/calendar')).status, 200);
  const after = await scrape();
  for (const name of ['samverka_db_group_commits_total', 'samverka_db_group_commit_writes_total'])
    t.true(figure(after, name) > figure(before, name), `${name} counted the page view's record`);
  t.is(figure(after, 'samverka_db_group_commit_failures_total'), 0);
});

test('metrics are read by the monitoring token or an admin, and by nobody else', async (t) => {
  t.is((await app.client().get('/metrics')).status, 401);
  t.is(
    (await app.client().get('/metrics', { authorization: `Bearer ${'x'.repeat(40)}` })).status,
    401,
    'a wrong token',
  );
  const clinician = await loggedIn(app, 'clinician');
  t.is((await clinician.client.get('/metrics')).status, 403);
  const admin = await loggedIn(app, 'admin');
  t.is((await admin.client.get('/metrics')).status, 200);
});

test('without METRICS_TOKEN only an admin reads the metrics', async (t) => {
  const other = await startServer();
  try {
    t.is((await other.client().get('/metrics', { authorization: `Bearer ${metricsToken}` })).status, 401);
    t.is((await (await loggedIn(other, 'admin')).client.get('/metrics')).status, 200);
  } finally {
    await other.stop();
  }
});
