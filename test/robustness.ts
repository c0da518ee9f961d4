// Walks every registered route and throws malformed input at it: bad path parameters, query
// strings, payloads and oversized bodies, anonymously and as an admin (session and token).
// No response may be a 500, and nothing stored may change. The walks run one after the other: each
// compares what is stored before and after, and the other's logins would show in it.
import test from 'ava';
import type { RequestRoute } from '@hapi/hapi';
import { createToken } from '../appliance/src/staff/service.ts';
import { startServer, type Client, type TestServer } from './helpers/server.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer();
});
test.after.always(() => app?.stop());

const badParams = [
  '%00',
  '..%2F..%2Fetc%2Fpasswd',
  'x'.repeat(3000),
  '%E2%80%AE%F0%9F%92%A9',
  '-1',
  "1'%20or%20'1'='1",
  '%zz',
];
const badQueries = [
  '',
  '?a[b][c]=1&a=2',
  '?from=yesterday&to=%ff&limit=-5',
  `?q=${'y'.repeat(5000)}`,
  '?next=//evil.example',
  '?lang=xx&lang=yy',
];
const badBodies: { type: string; body: string }[] = [
  { type: 'application/json', body: '{"unterminated": ' },
  { type: 'application/json', body: '[]' },
  { type: 'application/json', body: '42' },
  { type: 'application/json', body: 'null' },
  {
    type: 'application/json',
    body: JSON.stringify({
      email: ['a'],
      password: { $gt: '' },
      start: 'tomorrow',
      participants: 'all',
      id: 1e308,
      name: '\u0000',
    }),
  },
  { type: 'application/json', body: JSON.stringify({ nested: JSON.parse('['.repeat(200) + ']'.repeat(200)) }) },
  { type: 'application/json', body: `{"__proto__": {"admin": true}, "constructor": {"prototype": {"x": 1}}}` },
  { type: 'application/x-www-form-urlencoded', body: 'email=%zz&password&&=&a[b]=c' },
  { type: 'text/plain', body: 'plain text where something else was expected' },
  { type: 'multipart/form-data; boundary=xyz', body: '--xyz\r\nbroken' },
  { type: 'application/json', body: `{"big": "${'z'.repeat(300 * 1024)}"}` },
];

// Control characters (C0, DEL, a CR-LF that would split a header) and text outside Latin-1 (which
// Node refuses in a header such as Location), bare and behind a leading slash like a path.
const awkwardValues = [
  '%01x',
  '/%01x',
  '%0D%0ALocation:%20//evil.example',
  '/%09/evil.example',
  '%7F',
  '%E2%82%AC',
  '/%E2%82%AC',
  '%F0%9F%92%A9',
  '/%E2%80%AE',
  '%C3%A5%C3%A4%C3%B6',
  '%00',
];
// Names the walk tries on routes that declare no query schema of their own.
const commonNames = ['next', 'date', 'from', 'to', 'view', 'lang', 'q'];

/** The query parameter names a route's joi schema declares. */
function queryNames(route: RequestRoute): string[] {
  const schema = route.settings.validate?.query as { describe?: () => { keys?: Record<string, unknown> } } | undefined;
  const keys = typeof schema?.describe === 'function' ? Object.keys(schema.describe().keys ?? {}) : [];
  return keys.length > 0 ? keys : commonNames;
}

function fill(path: string, value: string): string {
  return path.replace(/\{[^}]+\}/g, value);
}

async function snapshot(): Promise<string> {
  const db = app.server.app.db;
  const tables = app.config.databaseUrl.startsWith('sqlite:')
    ? await db.raw<{ name: string }[]>(
        `select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'knex_%' order by name`,
      )
    : (
        await db.raw<{ rows: { name: string }[] }>(
          `select table_name as name from information_schema.tables where table_schema = 'public' and table_name not like 'knex_%' order by 1`,
        )
      ).rows;
  const dump: Record<string, unknown[]> = {};
  // Audit records are written by design for reads and failed logins, and attempt counters count
  // the attempts; everything else must stay as it was. A token's last use, and a session's last
  // activity (written once a minute while the walk goes on: a walk on a busy machine takes longer),
  // are bookkeeping of the valid token or session, not data the request could change. bus_events (PostgreSQL) is the bus's delivery
  // log, written after the change it tells of has committed (the walkers' logins land there a moment
  // later): a change a request made would show in the table it changed.
  const notData = new Set(['audit_log', 'attempt_counters', 'bus_events']);
  for (const { name } of tables.filter((t) => !notData.has(t.name))) {
    dump[name] = (await db(name).select().orderByRaw('1')).map(
      ({ last_used_at: _used, seen_at: _seen, ...row }) => row,
    );
  }
  return JSON.stringify(dump);
}

interface Identity {
  name: string;
  client: Client;
  headers: Record<string, string>;
}

async function send(identity: Identity, method: string, path: string, body?: { type: string; body: string }) {
  const headers: Record<string, string> = { ...identity.headers };
  if (body) headers['content-type'] = body.type;
  if (identity.client.crumb) headers['x-csrf-token'] = identity.client.crumb;
  try {
    const reply = await identity.client.request(method.toUpperCase(), path, { headers, body: body?.body });
    return reply.status;
  } catch (error) {
    return `network error: ${(error as Error).message}`;
  }
}

/** The callers every walk uses: nobody, an admin's API token (named `tokenName`), an admin's session. */
async function walkers(tokenName: string): Promise<Identity[]> {
  const admin = await app.staff('admin');
  const { token } = await createToken(app.server.app.db, admin.staff.email, tokenName);
  const sessionClient = app.client();
  await sessionClient.login(admin.staff.email, admin.password);
  return [
    { name: 'anonymous', client: app.client(), headers: {} },
    { name: 'token', client: app.client(), headers: { authorization: `Bearer ${token}` } },
    { name: 'session', client: sessionClient, headers: {} },
  ];
}

// Each walk sends thousands of requests one after another: minutes on a busy 2-core machine, more
// than ava's default two minutes between results. A wait for the walk to end, not a speed check.
const walkTimeout = 15 * 60_000;

test.serial('no route answers malformed input with a 500, and the stored data is unchanged', async (t) => {
  t.timeout(walkTimeout);
  const identities = await walkers('robustness');
  const before = await snapshot();

  // Logging out would end the session for the rest of the walk: it goes last.
  const routes = app.server
    .table()
    .filter((r) => !['options', '*', 'head'].includes(r.method))
    .sort((a, b) => Number(a.path === '/logout') - Number(b.path === '/logout'));
  t.true(routes.length >= 10, 'the walk sees the registered routes');

  const failures: string[] = [];
  let requests = 0;
  for (const identity of identities) {
    for (const route of routes) {
      const paths = route.path.includes('{') ? badParams.map((p) => fill(route.path, p)) : [route.path];
      for (const path of paths) {
        for (const query of badQueries) {
          const status = await send(identity, route.method, path + query);
          requests += 1;
          if (typeof status !== 'number' || status >= 500)
            failures.push(
              `${identity.name} ${route.method.toUpperCase()} ${path.slice(0, 80)}${query.slice(0, 40)} → ${status}`,
            );
        }
        if (['post', 'put', 'patch', 'delete'].includes(route.method)) {
          for (const body of badBodies) {
            const status = await send(identity, route.method, path, body);
            requests += 1;
            if (typeof status !== 'number' || status >= 500)
              failures.push(
                `${identity.name} ${route.method.toUpperCase()} ${path.slice(0, 80)} [${body.type} ${body.body.slice(0, 30)}] → ${status}`,
              );
          }
        }
      }
    }
  }
  t.log(`${routes.length} routes, ${requests} malformed requests`);
  t.deepEqual(failures, []);
  t.is(await snapshot(), before, 'nothing stored changed');
});

test.serial(
  'every query parameter of every route takes control characters and non-Latin-1 text without a 500',
  async (t) => {
    t.timeout(walkTimeout);
    const identities = await walkers('robustness-query');
    const routes = app.server
      .table()
      .filter((r) => !['options', '*', 'head'].includes(r.method))
      .sort((a, b) => Number(a.path === '/logout') - Number(b.path === '/logout'));
    const failures: string[] = [];
    let requests = 0;
    for (const identity of identities) {
      for (const route of routes) {
        // A well-formed id, so that the query is what the route has to cope with.
        const path = fill(route.path, '00000000-0000-4000-8000-000000000000');
        for (const name of queryNames(route)) {
          for (const value of awkwardValues) {
            const status = await send(identity, route.method, `${path}?${name}=${value}`);
            requests += 1;
            if (typeof status !== 'number' || status >= 500)
              failures.push(`${identity.name} ${route.method.toUpperCase()} ${path}?${name}=${value} → ${status}`);
          }
        }
      }
    }
    t.log(`${routes.length} routes, ${requests} requests with awkward query values`);
    t.deepEqual(failures, []);
  },
);
