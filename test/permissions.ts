// The permission matrix: every registered route, called by every kind of caller, must let in
// exactly those the table below says. A route missing from the table fails the test: whoever adds
// a route states here who may use it.
//
// Callers: admin; a clinician of the meeting's unit (who booked it); a clinician of another unit;
// support; the guest session of an external party invited to the meeting (by e-mail, no
// identification); anonymous; an API bearer token of the
// clinician of the unit. "yes" means the route let the caller through authentication,
// authorisation and the domain's own access check (the answer may still be 400/404/409 for the
// deliberately empty input); "no" means 401, 403, or a redirect to the login page.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import test from 'ava';
import { sha256 } from '../appliance/src/crypto.ts';
import { bind, entryState, insertGuestSession, markIdentified } from '../appliance/src/entry/store.ts';
import { createToken } from '../appliance/src/staff/service.ts';
import { findUnit } from '../appliance/src/staff/store.ts';
import { present } from './helpers/present.ts';
import { startServer, type Client, type TestServer } from './helpers/server.ts';
import { booking, loggedIn } from './meetings/_booking.ts';

const callers = ['admin', 'unit', 'other', 'support', 'guest', 'anonymous', 'token'] as const;
type Caller = (typeof callers)[number];

const expected = `
  route                                                        | admin | unit | other | support | guest | anonymous | token
  GET /                                                        | yes   | yes  | yes   | yes     | no    | no        | no
  GET /login                                                   | yes   | yes  | yes   | yes     | yes   | yes       | yes
  POST /login                                                  | yes   | yes  | yes   | yes     | yes   | yes       | yes
  POST /logout                                                 | yes   | yes  | yes   | yes     | yes   | yes       | yes
  GET /password                                                | yes   | yes  | yes   | yes     | no    | no        | no
  POST /password                                               | yes   | yes  | yes   | yes     | no    | no        | no
  GET /profile                                                 | yes   | yes  | yes   | yes     | no    | no        | no
  GET /lang/{lang}                                             | yes   | yes  | yes   | yes     | yes   | yes       | yes
  # the identity provider's login (registered only with OIDC_*): public, as the login page is; here its
  # provider refuses the connection, and the page says so (503)
  GET /auth/login                                              | yes   | yes  | yes   | yes     | yes   | yes       | yes
  # its way back refuses (401) a call without the flow its browser began: completing one is in test/staff/oidc.ts
  GET /auth/callback                                           | no    | no   | no    | no      | no    | no        | no
  GET /static/{file*}                                          | yes   | yes  | yes   | yes     | yes   | yes       | yes
  GET /health/live                                             | yes   | yes  | yes   | yes     | yes   | yes       | yes
  GET /health/ready                                            | yes   | yes  | yes   | yes     | yes   | yes       | yes
  # the monitoring system reads metrics with METRICS_TOKEN (see test/health)
  GET /metrics                                                 | yes   | no   | no    | no      | no    | no        | no
  GET /api/docs                                                | yes   | yes  | yes   | yes     | no    | no        | yes
  GET /api/v1/openapi.json                                     | yes   | yes  | yes   | yes     | no    | no        | yes
  GET /api/v1/me                                               | yes   | yes  | yes   | yes     | no    | no        | yes
  GET /api/v1/meetings                                         | yes   | yes  | yes   | yes     | no    | no        | yes
  POST /api/v1/meetings                                        | yes   | yes  | yes   | no      | no    | no        | yes
  GET /api/v1/meetings/{id}                                    | yes   | yes  | no    | yes     | no    | no        | yes
  PATCH /api/v1/meetings/{id}                                  | yes   | yes  | no    | no      | no    | no        | yes
  POST /api/v1/meetings/{id}/cancel                            | yes   | yes  | no    | no      | no    | no        | yes
  POST /api/v1/meetings/{id}/participants                      | yes   | yes  | no    | no      | no    | no        | yes
  POST /api/v1/meetings/{id}/participants/{participantId}/resend | yes | yes  | no    | no      | no    | no        | yes
  DELETE /api/v1/meetings/{id}/participants/{participantId}    | yes   | yes  | no    | no      | no    | no        | yes
  PATCH /api/v1/meetings/{id}/participants/{participantId}     | yes   | yes  | no    | no      | no    | no        | yes
  GET /api/v1/meetings/{id}/messages                           | yes   | yes  | no    | yes     | no    | no        | yes
  GET /api/v1/meetings/{id}/entry                              | yes   | yes  | no    | yes     | no    | no        | yes
  GET /calendar                                                | yes   | yes  | yes   | yes     | no    | no        | no
  GET /calendar/events                                         | yes   | yes  | yes   | yes     | no    | no        | no
  GET /meetings/new                                            | yes   | yes  | yes   | no      | no    | no        | no
  POST /meetings/new                                           | yes   | yes  | yes   | no      | no    | no        | no
  GET /meetings/{id}                                           | yes   | yes  | no    | yes     | no    | no        | no
  GET /meetings/{id}/events                                    | yes   | yes  | no    | yes     | no    | no        | no
  POST /meetings/{id}/reschedule                               | yes   | yes  | no    | no      | no    | no        | no
  POST /meetings/{id}/cancel                                   | yes   | yes  | no    | no      | no    | no        | no
  POST /meetings/{id}/participants/add                         | yes   | yes  | no    | no      | no    | no        | no
  POST /meetings/{id}/participants/{participantId}/remove      | yes   | yes  | no    | no      | no    | no        | no
  POST /meetings/{id}/participants/{participantId}/resend      | yes   | yes  | no    | no      | no    | no        | no
  POST /meetings/{id}/participants/{participantId}/contact     | yes   | yes  | no    | no      | no    | no        | no
  GET /techtest                                                | yes   | yes  | yes   | yes     | no    | no        | no
  GET /techtest/ice                                            | yes   | yes  | yes   | yes     | no    | no        | no
  GET /techtest/download                                       | yes   | yes  | yes   | yes     | no    | no        | no
  POST /techtest/upload                                        | yes   | yes  | yes   | yes     | no    | no        | no
  POST /techtest/results                                       | yes   | yes  | yes   | yes     | no    | no        | no
  GET /j/{token}                                               | yes   | yes  | yes   | yes     | yes   | yes       | yes
  POST /j                                                      | yes   | yes  | yes   | yes     | yes   | yes       | yes
  GET /entry                                                   | no    | no   | no    | no      | yes   | no        | no
  GET /entry/code                                              | no    | no   | no    | no      | yes   | no        | no
  POST /entry/code                                             | no    | no   | no    | no      | yes   | no        | no
  POST /entry/code/resend                                      | no    | no   | no    | no      | yes   | no        | no
  GET /entry/test                                              | no    | no   | no    | no      | yes   | no        | no
  GET /entry/test/ice                                          | no    | no   | no    | no      | yes   | no        | no
  GET /entry/test/download                                     | no    | no   | no    | no      | yes   | no        | no
  POST /entry/test/upload                                      | no    | no   | no    | no      | yes   | no        | no
  POST /entry/test/results                                     | no    | no   | no    | no      | yes   | no        | no
  GET /entry/waiting                                           | no    | no   | no    | no      | yes   | no        | no
  GET /entry/waiting/events                                    | no    | no   | no    | no      | yes   | no        | no
  GET /entry/meeting                                           | no    | no   | no    | no      | yes   | no        | no
  GET /meetings/{id}/room                                      | yes   | yes  | no    | yes     | no    | no        | no
  GET /meetings/{id}/room/panel                                | yes   | yes  | no    | yes     | no    | no        | no
  GET /meetings/{id}/room/events                               | yes   | yes  | no    | yes     | no    | no        | no
  GET /api/v1/meetings/{id}/room                               | yes   | yes  | no    | yes     | no    | no        | yes
  GET /meetings/{id}/record                                    | yes   | yes  | no    | yes     | no    | no        | no
  GET /api/v1/meetings/{id}/record                             | yes   | yes  | no    | yes     | no    | no        | yes
  POST /meetings/{id}/kick                                     | yes   | yes  | no    | no      | no    | no        | no
  POST /meetings/{id}/noshow/{participantId}                   | yes   | yes  | no    | no      | no    | no        | no
  POST /meetings/{id}/end                                      | yes   | yes  | no    | no      | no    | no        | no
  GET /entry/identify                                          | no    | no   | no    | no      | yes   | no        | no
  GET /entry/identify/start                                    | no    | no   | no    | no      | yes   | no        | no
  GET /entry/identify/callback                                 | no    | no   | no    | no      | yes   | no        | no
  GET /entry/evaluation                                        | no    | no   | no    | no      | yes   | no        | no
  POST /entry/evaluation                                       | no    | no   | no    | no      | yes   | no        | no
  GET /e/{token}                                               | yes   | yes  | yes   | yes     | yes   | yes       | yes
  POST /e                                                      | yes   | yes  | yes   | yes     | yes   | yes       | yes
  GET /evaluation/meeting/{id}                                 | no    | yes  | no    | no      | no    | no        | no
  # stops at validation with the empty input: who may answer is checked in the evaluation tests
  POST /evaluation/meeting/{id}                                | yes   | yes  | yes   | yes     | no    | no        | no
  GET /evaluation/results                                      | yes   | yes  | yes   | no      | no    | no        | no
  GET /evaluation/results.csv                                  | yes   | yes  | yes   | no      | no    | no        | no
  GET /evaluation/sets                                         | yes   | no   | no    | no      | no    | no        | no
  GET /evaluation/sets/{unitId}/{role}                         | yes   | no   | no    | no      | no    | no        | no
  POST /evaluation/sets/{unitId}/{role}                        | yes   | no   | no    | no      | no    | no        | no
  GET /connlog                                                 | yes   | no   | no    | yes     | no    | no        | no
  POST /connlog                                                | yes   | no   | no    | yes     | no    | no        | no
  GET /connlog/meetings/{id}                                   | yes   | no   | no    | yes     | no    | no        | no
  # browsers of staff and guests report their connection events; anonymous ones may not
  POST /connlog/events                                         | yes   | yes  | yes   | yes     | yes   | no        | no
  GET /admin                                                   | yes   | no   | no    | no      | no    | no        | no
  GET /admin/audit                                             | yes   | no   | no    | no      | no    | no        | no
  GET /admin/audit/extract                                     | yes   | no   | no    | no      | no    | no        | no
  POST /admin/audit/extract                                    | yes   | no   | no    | no      | no    | no        | no
  GET /admin/audit/extract.csv                                 | yes   | no   | no    | no      | no    | no        | no
  GET /admin/staff                                             | yes   | no   | no    | no      | no    | no        | no
  POST /admin/staff                                            | yes   | no   | no    | no      | no    | no        | no
  GET /admin/staff/{id}                                        | yes   | no   | no    | no      | no    | no        | no
  POST /admin/staff/{id}                                       | yes   | no   | no    | no      | no    | no        | no
  POST /admin/staff/{id}/disable                               | yes   | no   | no    | no      | no    | no        | no
  POST /admin/staff/{id}/enable                                | yes   | no   | no    | no      | no    | no        | no
  POST /admin/staff/{id}/password                              | yes   | no   | no    | no      | no    | no        | no
  POST /admin/staff/{id}/tokens                                | yes   | no   | no    | no      | no    | no        | no
  POST /admin/staff/{id}/tokens/{tokenId}/revoke               | yes   | no   | no    | no      | no    | no        | no
  GET /admin/units                                             | yes   | no   | no    | no      | no    | no        | no
  POST /admin/units                                            | yes   | no   | no    | no      | no    | no        | no
  POST /admin/units/{id}                                       | yes   | no   | no    | no      | no    | no        | no
  GET /admin/status                                            | yes   | no   | no    | no      | no    | no        | no
  GET /admin/privacy                                           | yes   | no   | no    | no      | no    | no        | no
  GET /admin/privacy/participants/{id}/export                  | yes   | no   | no    | no      | no    | no        | no
  POST /admin/privacy/participants/{id}/erase                  | yes   | no   | no    | no      | no    | no        | no
  GET /admin/outbox                                            | yes   | no   | no    | no      | no    | no        | no
  GET /admin/templates                                         | yes   | no   | no    | no      | no    | no        | no
  POST /admin/templates/reload                                 | yes   | no   | no    | no      | no    | no        | no
`;

/**
 * Inputs valid enough to reach the domain's own check (canChange) rather than stop at validation,
 * but naming a version the meeting never had: an allowed caller gets 409 and nothing changes.
 */
const stale = 999;
const inputs: Record<string, { query?: string; body: Record<string, unknown> }> = {
  'PATCH /api/v1/meetings/{id}': { body: { version: stale, title: 'Ändrad' } },
  'POST /api/v1/meetings/{id}/cancel': { body: { version: stale, reason: 'Sjuk' } },
  'POST /api/v1/meetings/{id}/participants': {
    body: {
      version: stale,
      participant: { kind: 'guest', name: 'Ny Gäst', email: 'ny@skola.example', identification: 'none' },
    },
  },
  'DELETE /api/v1/meetings/{id}/participants/{participantId}': { query: `?version=${stale}`, body: {} },
  'POST /api/v1/meetings/{id}/participants/{participantId}/resend': { body: { version: stale } },
  'POST /meetings/{id}/participants/{participantId}/resend': { body: { version: stale } },
  'PATCH /api/v1/meetings/{id}/participants/{participantId}': { body: { version: stale, mobile: '070-765 43 21' } },
  'POST /meetings/{id}/participants/{participantId}/contact': { body: { version: stale, mobile: '070-765 43 21' } },
  'POST /meetings/{id}/reschedule': {
    body: { version: stale, date: '2030-01-07', time: '10:00', durationMinutes: 30, confirm: 'yes' },
  },
  'POST /meetings/{id}/cancel': { body: { version: stale, reason: 'Sjuk', confirm: 'yes' } },
  'POST /meetings/{id}/participants/add': {
    body: { version: stale, p_kind: 'guest', p_name: 'Eva Ek', p_email: 'eva@skola.example', p_identification: 'none' },
  },
  'POST /meetings/{id}/participants/{participantId}/remove': { body: { version: stale, confirm: 'yes' } },
  'POST /meetings/{id}/kick': { body: { nick: 'Ingen här' } },
  'POST /meetings/{id}/noshow/{participantId}': { body: { action: 'dismissed' } },
  // Really ends the meeting for an allowed caller: the walk does it last (see below).
  'POST /meetings/{id}/end': { body: { confirm: 'yes' } },
};

/** Swagger UI's own files are public like the page that loads them. */
const publicPrefixes = ['/api/docs/ui/'];

function parseTable(text: string): Map<string, Record<Caller, boolean>> {
  const rows = new Map<string, Record<Caller, boolean>>();
  for (const line of text
    .trim()
    .split('\n')
    .slice(1)
    .filter((l) => !l.trim().startsWith('#'))) {
    const [route, ...cells] = line.split('|').map((c) => c.trim());
    if (cells.length !== callers.length || cells.some((c) => c !== 'yes' && c !== 'no'))
      throw new Error(`malformed permission row: ${line}`);
    rows.set(
      present(route, 'a route'),
      Object.fromEntries(callers.map((c, i) => [c, cells[i] === 'yes'])) as Record<Caller, boolean>,
    );
  }
  return rows;
}

const last = (path: string) => ['/meetings/{id}/end', '/logout'].indexOf(path) + 1;

/** A local address nothing listens on: the identity provider is configured, so its routes are registered, and refuses at once. */
async function closedAddress(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return `http://127.0.0.1:${port}`;
}

let app: TestServer;
test.before(async () => {
  const identityProvider = {
    OIDC_ISSUER: await closedAddress(),
    OIDC_CLIENT_ID: 'samverka',
    OIDC_CLIENT_SECRET: 'secret',
  };
  app = await startServer({ env: { REMINDER_OFFSETS: 'none', ...identityProvider } });
});
test.after.always(() => app?.stop());

test('every route lets in exactly the callers the permission table names', async (t) => {
  const table = parseTable(expected);
  const db = app.server.app.db;
  const { client: unit, staff: unitClinician } = await loggedIn(app, 'clinician', 'Barn- och ungdomsmedicin');
  const { client: other } = await loggedIn(app, 'clinician', 'Ortopedi');
  const { client: support } = await loggedIn(app, 'support', 'Administration');
  const { client: admin } = await loggedIn(app, 'admin', 'Administration');
  const target = await app.staff('clinician', 'Barn- och ungdomsmedicin');
  const { token } = await createToken(db, unitClinician.email, 'permissions');
  const meeting = (await unit.request('POST', '/api/v1/meetings', { json: booking() })).json<{
    id: string;
    participants: { id: string }[];
  }>();
  const [patient, teacher] = meeting.participants;
  const patientId = present(patient, 'the booked patient').id;
  const guestId = present(teacher, 'the booked teacher').id;
  const unitA = await findUnit(db, { name: 'Barn- och ungdomsmedicin' });
  const guestValue = randomBytes(32).toString('base64url');
  await insertGuestSession(db, {
    participantId: guestId,
    person: 'main',
    meetingId: meeting.id,
    sessionHash: sha256(guestValue),
    expiresAt: new Date(Date.now() + 3_600_000),
  });
  // As after the name check: the session bound to the link, the person identified by name.
  await entryState(db, guestId, 'main');
  await bind(db, guestId, 'main', sha256(guestValue));
  await markIdentified(db, guestId, 'main', 'name');
  const guest = app.client();
  guest.cookies.set('samverka_guest', guestValue);
  await guest.get('/login'); // the crumb cookie, as a guest's browser has from the entry pages

  const clients: Record<Caller, { client: Client; headers: Record<string, string> }> = {
    admin: { client: admin, headers: {} },
    unit: { client: unit, headers: {} },
    other: { client: other, headers: {} },
    support: { client: support, headers: {} },
    guest: { client: guest, headers: {} },
    anonymous: { client: app.client(), headers: {} },
    token: { client: app.client(), headers: { authorization: `Bearer ${token}` } },
  };

  const fill = (path: string) => {
    const id = path.startsWith('/admin/staff/')
      ? target.staff.id
      : path.startsWith('/admin/units/')
        ? unitA!.id
        : path.startsWith('/admin/privacy/participants/')
          ? patientId
          : meeting.id;
    return path
      .replace('{id}', id)
      .replace('{participantId}', patientId)
      .replace('{tokenId}', '00000000-0000-4000-8000-000000000000')
      .replace('{unitId}', unitA!.id)
      .replace('{role}', 'clinician')
      .replace('{token}', 'A'.repeat(43))
      .replace('{lang}', 'sv')
      .replace('{file*}', 'app.css');
  };

  const routes = app.server
    .table()
    .filter((r) => !['options', '*', 'head'].includes(r.method))
    .filter((r) => !publicPrefixes.some((p) => r.path.startsWith(p)))
    // Ending the meeting and logging out change what follows: they go last.
    .sort((a, b) => last(a.path) - last(b.path));
  const missing = routes.map((r) => `${r.method.toUpperCase()} ${r.path}`).filter((key) => !table.has(key));

  const wrong: string[] = [];
  const cached: string[] = [];
  const observed: string[] = [];
  for (const route of routes) {
    const key = `${route.method.toUpperCase()} ${route.path}`;
    const row = table.get(key);
    const cells: string[] = [];
    for (const caller of callers) {
      const { client, headers } = clients[caller];
      const api = route.path.startsWith('/api/');
      const input = inputs[key];
      const body = input?.body ?? {};
      const init =
        route.method === 'get'
          ? { headers }
          : route.method === 'delete'
            ? { headers: { ...headers, ...(client.crumb ? { 'x-csrf-token': client.crumb } : {}) } }
            : api
              ? { headers, json: body }
              : {
                  headers,
                  form: {
                    crumb: client.crumb ?? '',
                    ...Object.fromEntries(Object.entries(body).map(([k, v]) => [k, String(v)])),
                  },
                };
      const reply = await client.request(route.method.toUpperCase(), fill(route.path) + (input?.query ?? ''), init);
      // The session strategy sends a page request to /login?next=…; logging out lands on /login?bye=true.
      const toLogin =
        reply.status >= 300 && reply.status < 400 && /^\/login(\?next=|$)/.test(reply.headers.get('location') ?? '');
      const allowed = !(reply.status === 401 || reply.status === 403 || toLogin);
      cells.push(`${allowed ? 'yes' : 'no'}(${reply.status})`);
      // Meeting and personal data must never rest in a browser's or proxy's cache: every answer
      // says no-store, whoever asked and however it went; only the static files may be kept.
      const cacheControl = reply.headers.get('cache-control') ?? '';
      const mayCache = key === 'GET /static/{file*}' && reply.status === 200;
      if (!mayCache && !/\bno-store\b/.test(cacheControl))
        cached.push(`${key} as ${caller}: ${reply.status} "${cacheControl}"`);
      if (row && allowed !== row[caller])
        wrong.push(
          `${key} as ${caller}: ${reply.status}${toLogin ? ' → /login' : ''}, expected ${row[caller] ? 'allowed' : 'denied'}`,
        );
    }
    observed.push(`${key.padEnd(60)} | ${cells.join(' | ')}`);
  }
  if (process.env.PERMISSIONS_PRINT) console.log(observed.join('\n'));
  // Failed assertions end the test: the walk runs first, then both findings are reported.
  t.deepEqual({ missing, wrong }, { missing: [], wrong: [] }, 'every route has a row, and every row holds');
  t.deepEqual(cached, [], 'every answer says Cache-Control: no-store');
  const unused = [...table.keys()].filter((key) => !routes.some((r) => `${r.method.toUpperCase()} ${r.path}` === key));
  if (unused.length > 0) t.log(`rows for routes not registered in this build: ${unused.join(', ')}`);
});
