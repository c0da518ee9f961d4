// Staff login through the hospital's identity provider, against a real OpenID Connect provider
// (oidc-provider on loopback): code flow with PKCE, state and nonce bound to one browser and used
// once, HSA-ID to staff account, LOCAL_LOGIN=off, logout at the provider, a provider that hangs.
import { createServer, type Server, type Socket } from 'node:net';
import test from 'ava';
import { findAudit } from '../../appliance/src/audit/store.ts';
import { purge } from '../../appliance/src/admin/retention.ts';
import { ConfigError, loadConfig } from '../../appliance/src/config.ts';
import { findStaff, findUnit } from '../../appliance/src/staff/store.ts';
import { countRows, racingInserts } from '../helpers/databases.ts';
import { signInAt, startIdp, type TestIdp } from '../helpers/idp.ts';
import { present } from '../helpers/present.ts';
import { startServer, type Client, type TestServer } from '../helpers/server.ts';

interface World {
  idp: TestIdp;
  app: TestServer;
}

let main: World;
let strict: World; // LOCAL_LOGIN=off and auto-provisioning
let n = 0;

async function world(env: Record<string, string> = {}): Promise<World> {
  const idp = await startIdp();
  const app = await startServer({ env: { ...idp.env, ...env } });
  idp.trust(app.url);
  return { idp, app };
}

test.before(async () => {
  [main, strict] = await Promise.all([
    world(),
    world({ LOCAL_LOGIN: 'off', OIDC_AUTO_PROVISION: 'Akutmottagningen:clinician' }),
  ]);
});
// Accounts found by e-mail, with auto-provisioning: started by the first test that needs it.
let byEmail: Promise<World> | undefined;
const emailWorld = () =>
  (byEmail ??= world({ OIDC_STAFF_MATCH: 'email', OIDC_AUTO_PROVISION: 'Akutmottagningen:clinician' }));
test.after.always(async () => {
  for (const w of [main, strict, byEmail && (await byEmail)]) {
    await w?.app.stop();
    await w?.idp.close();
  }
});

const hsa = () => `SE2321000131-E${String(100000 + (n += 1))}`;

/** A clinician with a staff account and a matching account at the provider. */
async function clinician(w = main) {
  const hsaId = hsa();
  const { staff, password } = await w.app.staff('clinician', undefined, { hsaId });
  const accountId = `doc-${hsaId}`;
  w.idp.addAccount(accountId, { name: staff.name, email: staff.email, hsaId });
  return { staff, password, accountId, hsaId };
}

/** Starts a login in `browser` and returns the provider's authorization URL. */
async function startLogin(browser: Client, next?: string): Promise<URL> {
  const reply = await browser.get(next ? `/auth/login?next=${encodeURIComponent(next)}` : '/auth/login');
  if (reply.status !== 302) throw new Error(`login did not start: ${reply.status} ${reply.text.slice(0, 200)}`);
  return new URL(reply.headers.get('location')!);
}

const local = (url: string) => {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
};

test('a clinician logs in with a SITHS card through the identity provider and lands in the calendar', async (t) => {
  const { staff, accountId } = await clinician();
  const browser = main.app.client();
  const authorization = await startLogin(browser);
  t.is(authorization.origin, main.idp.issuer);
  const params = authorization.searchParams;
  t.is(params.get('redirect_uri'), `${main.app.url}/auth/callback`, 'the redirect URI is exact');
  t.is(params.get('code_challenge_method'), 'S256');
  t.truthy(params.get('code_challenge'));
  t.truthy(params.get('state'));
  t.truthy(params.get('nonce'));
  t.is(params.get('acr_values'), 'urn:test:siths');
  t.regex(browser.cookies.get('samverka_flow') ?? '', /^[\w-]{43}$/);

  const callback = await signInAt(authorization.href, accountId);
  t.true(callback.startsWith(`${main.app.url}/auth/callback?`));
  const landed = await browser.get(local(callback));
  t.is(landed.status, 302);
  t.is(landed.headers.get('location'), '/');
  t.is((await browser.get('/')).headers.get('location'), '/calendar');
  const home = await browser.get('/calendar');
  t.is(home.status, 200);
  t.regex(home.text, new RegExp(`Inloggad som ${staff.name}`));
  const logins = await findAudit(main.app.server.app.db, { staffId: staff.id, action: 'login' });
  t.deepEqual(
    logins.map((a) => a.details),
    [{ method: 'oidc' }],
  );
});

test("a SITHS login is the person's last login on the admin's staff list", async (t) => {
  const { staff, accountId } = await clinician();
  const browser = main.app.client();
  t.is((await browser.get(local(await signInAt((await startLogin(browser)).href, accountId)))).status, 302);
  const { password, staff: admin } = await main.app.staff('admin', 'Administration');
  const it = main.app.client();
  await it.login(admin.email, password);
  const list = await it.get(`/admin/staff?q=${encodeURIComponent(staff.email)}`);
  // The person's row, from their name to the row's end: the last column is their last login.
  const row = present(list.text.split(`>${staff.name}</a>`)[1]?.split('</tr>')[0], 'their row on the list');
  t.notRegex(row, /aldrig/, 'IT looks for accounts nobody uses: this one is used');
});

test('a login returns to the page that was asked for', async (t) => {
  const { accountId } = await clinician();
  const browser = main.app.client();
  const authorization = await startLogin(browser, '/password');
  const landed = await browser.get(local(await signInAt(authorization.href, accountId)));
  t.is(landed.headers.get('location'), '/password');
});

test('a login returns to a long page asked for: a connection-log timeline with the support search it came from', async (t) => {
  const { accountId } = await clinician();
  const browser = main.app.client();
  // As long as a timeline address gets: connlog takes a sealed search of up to 4,000 characters.
  const timeline = `/connlog/meetings/c0ffee00-0000-4000-8000-00000000000a?${new URLSearchParams({
    participantId: 'c0ffee00-0000-4000-8000-00000000000b',
    errors: '1',
    s: `v1.${'A'.repeat(3997)}`,
    resultPage: '100000',
    page: '100000',
  })}`;
  const authorization = await startLogin(browser, timeline);
  const landed = await browser.get(local(await signInAt(authorization.href, accountId)));
  t.is(landed.status, 302);
  t.is(landed.headers.get('location'), timeline);
});

test('an HSA-ID typed in lower case on the admin form, or saved so earlier, still matches the SITHS login', async (t) => {
  for (const saved of ['typed', 'earlier'] as const) {
    const hsaId = hsa();
    // IT types the clinician's HSA-ID as it reads it out, in lower case; SITHS sends it in upper case.
    const { staff } = await main.app.staff('clinician', undefined, { hsaId: hsaId.toLowerCase() });
    if (saved === 'earlier')
      await main.app.server.app.db('staff').where({ id: staff.id }).update({ hsa_id: hsaId.toLowerCase() });
    else t.is((await findStaff(main.app.server.app.db, { id: staff.id }))?.hsaId, hsaId, 'stored as SITHS writes it');
    const accountId = `doc-${hsaId}`;
    main.idp.addAccount(accountId, { name: staff.name, email: staff.email, hsaId });
    const browser = main.app.client();
    const landed = await browser.get(local(await signInAt((await startLogin(browser)).href, accountId)));
    t.is(landed.status, 302, saved);
    t.is(landed.headers.get('location'), '/', `${saved}: signed in, not refused as unknown`);
  }
});

test('the session is renewed at an IdP login: the earlier session id no longer works', async (t) => {
  const { staff, password, accountId } = await clinician();
  const browser = main.app.client();
  await browser.login(staff.email, password);
  const before = browser.cookies.get('samverka_sid')!;
  const landed = await browser.get(local(await signInAt((await startLogin(browser)).href, accountId)));
  t.is(landed.status, 302);
  const after = browser.cookies.get('samverka_sid')!;
  t.not(after, before);
  const stale = main.app.client();
  stale.cookies.set('samverka_sid', before);
  t.is(
    (await stale.get('/calendar')).headers.get('location'),
    '/login?next=%2Fcalendar&session=ended',
    'the old session leads to the login page',
  );
  t.is((await browser.get('/calendar')).status, 200);
});

test('an HSA-ID without a staff account is refused with a page that says so', async (t) => {
  main.idp.addAccount('stranger', { name: 'Okänd Läkare', email: 'okand@region.example', hsaId: hsa() });
  const browser = main.app.client();
  const landed = await browser.get(local(await signInAt((await startLogin(browser)).href, 'stranger')));
  t.is(landed.status, 403);
  t.regex(landed.text, /Ditt SITHS-kort är inte kopplat till något konto i Samverka/);
  t.false(browser.cookies.has('samverka_sid'));
  const failures = await findAudit(main.app.server.app.db, { action: 'login.failed' });
  t.true(failures.some((a) => a.details?.reason === 'unknown' && a.details?.method === 'oidc'));
});

test("an HSA-ID without a staff account is kept beside the failed login's record for RETENTION_LOGIN_ADDRESS_DAYS only, not in the ten-year log", async (t) => {
  const hsaId = hsa();
  main.idp.addAccount(`unknown-${hsaId}`, { name: 'Okänd Sköterska', email: 'okand2@region.example', hsaId });
  const browser = main.app.client();
  t.is((await browser.get(local(await signInAt((await startLogin(browser)).href, `unknown-${hsaId}`)))).status, 403);
  const db = main.app.server.app.db;
  const failed = async (id?: number) =>
    (await findAudit(db, { action: 'login.failed' })).find((r) => (id ? r.id === id : r.details?.hsaId === hsaId));
  const record = present(await failed(), 'the failed login, with the HSA-ID given');
  t.is(record.details?.reason, 'unknown');
  t.true(record.details?.unknownAccount === true);
  const stored = present(
    await db('audit_log').where({ id: record.id }).first<{ details: string }>('details'),
    'the row',
  );
  t.false(stored.details.includes(hsaId), 'not in the log itself');

  const days = main.app.config.retention.loginAddressDays;
  const later = (extra: number) => new Date(Date.now() + (days + extra) * 86_400_000);
  await purge(db, main.app.config.retention, 'cli', later(-1));
  t.is((await failed(record.id))?.details?.hsaId, hsaId, 'kept within the period');
  await purge(db, main.app.config.retention, 'cli', later(1));
  const after = present(await failed(record.id), 'the record, still in the log');
  t.is(after.details?.hsaId, undefined, 'the HSA-ID is forgotten');
  t.is(after.details?.reason, 'unknown', 'why the login failed is kept');
});

test('a disabled account is refused even with a valid SITHS login', async (t) => {
  const { staff, accountId } = await clinician();
  await main.app.server.app.db('staff').where({ id: staff.id }).update({ disabled_at: new Date().toISOString() });
  const browser = main.app.client();
  const landed = await browser.get(local(await signInAt((await startLogin(browser)).href, accountId)));
  t.is(landed.status, 403);
  t.regex(landed.text, /avstängt/);
});

test('a tampered state is refused', async (t) => {
  const { accountId } = await clinician();
  const browser = main.app.client();
  const callback = new URL(await signInAt((await startLogin(browser)).href, accountId));
  callback.searchParams.set('state', `${callback.searchParams.get('state')}x`);
  const landed = await browser.get(local(callback.href));
  t.is(landed.status, 401);
  t.regex(landed.text, /Inloggningen kunde inte slutföras/);
  t.false(browser.cookies.has('samverka_sid'));
});

test('a replayed callback (the same code and state) is refused', async (t) => {
  const { accountId } = await clinician();
  const browser = main.app.client();
  const callback = local(await signInAt((await startLogin(browser)).href, accountId));
  t.is((await browser.get(callback)).status, 302);
  const other = main.app.client();
  other.cookies.set('samverka_flow', browser.cookies.get('samverka_flow')!);
  const replay = await other.get(callback);
  t.is(replay.status, 401);
  t.false(other.cookies.has('samverka_sid'));
});

test('a used code presented with a fresh state is refused by the provider', async (t) => {
  const { accountId } = await clinician();
  const browser = main.app.client();
  const first = new URL(await signInAt((await startLogin(browser)).href, accountId));
  t.is((await browser.get(local(first.href))).status, 302);
  const attacker = main.app.client();
  const fresh = await startLogin(attacker);
  const spliced = new URL(first.href);
  spliced.searchParams.set('state', fresh.searchParams.get('state')!);
  const landed = await attacker.get(local(spliced.href));
  t.is(landed.status, 401);
  t.regex(landed.text, /kunde inte godtas/);
  t.false(attacker.cookies.has('samverka_sid'));
});

test('an ID token carrying another nonce is refused', async (t) => {
  const { accountId } = await clinician();
  const browser = main.app.client();
  const authorization = await startLogin(browser);
  authorization.searchParams.set('nonce', 'not-the-nonce-samverka-sent');
  const landed = await browser.get(local(await signInAt(authorization.href, accountId)));
  t.is(landed.status, 401);
  t.false(browser.cookies.has('samverka_sid'));
  const failures = await findAudit(main.app.server.app.db, { action: 'login.failed' });
  t.true(failures.some((a) => a.details?.reason === 'rejected'));
});

test('a login started in another browser does not complete in this one', async (t) => {
  const { accountId } = await clinician();
  const victim = main.app.client();
  const callback = local(await signInAt((await startLogin(main.app.client())).href, accountId));
  const landed = await victim.get(callback);
  t.is(landed.status, 401);
  t.regex(landed.text, /påbörjades i en annan webbläsare/);
  t.false(victim.cookies.has('samverka_sid'));
});

test('a login cancelled at the provider is said to be cancelled', async (t) => {
  const browser = main.app.client();
  const landed = await browser.get(local(await signInAt((await startLogin(browser)).href, { abort: true })));
  t.is(landed.status, 401);
  t.regex(landed.text, /avbröts eller nekades/);
});

test('logout after an IdP login ends the local session and sends the browser on to the provider, with the ID token, to end its session', async (t) => {
  const { staff, accountId } = await clinician();
  const browser = main.app.client();
  await browser.get(local(await signInAt((await startLogin(browser)).href, accountId)));
  const sid = browser.cookies.get('samverka_sid')!;
  const out = await browser.submit('/logout', {}, '/');
  // A page of this site that moves on by a GET: a redirect from the logout form's POST to another
  // origin is stopped by form-action 'self' in the browser (test/browser/logout.ts shows it working).
  t.is(out.status, 200);
  t.regex(out.headers.get('content-security-policy')!, /form-action 'self'(;|$)/);
  t.is(out.headers.get('cache-control'), 'no-store');
  const refresh = /^0; url=(.+)$/.exec(out.headers.get('refresh') ?? '')?.[1];
  t.truthy(refresh);
  const to = new URL(refresh!);
  t.regex(out.text, /Du är utloggad från Samverka\. Nu loggas du också ut från inloggningstjänsten/);
  const link = /<a class="button" href="([^"]+)">Fortsätt till inloggningstjänsten<\/a>/.exec(out.text)?.[1];
  t.is(link?.replaceAll('&amp;', '&').replaceAll('&#x3D;', '='), refresh, 'the same address as a link');
  t.notRegex(out.text, /Inloggad som/);
  t.is(`${to.origin}${to.pathname}`, `${main.idp.issuer}/session/end`);
  t.is(to.searchParams.get('post_logout_redirect_uri'), `${main.app.url}/login?bye=true`);
  t.is(to.searchParams.get('client_id'), main.idp.clientId);
  // The ID token of this login: the provider knows whose session to end without asking.
  const hint = to.searchParams.get('id_token_hint');
  t.truthy(hint);
  const payload = present(present(hint, 'the ID token hint').split('.')[1], 'the payload of the ID token');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  t.is(claims.sub, accountId);
  t.is(claims.aud, main.idp.clientId);
  // Stored sealed, never as the token itself.
  t.false(JSON.stringify(await main.app.server.app.db('staff_sessions').select()).includes(hint!));
  const stale = main.app.client();
  stale.cookies.set('samverka_sid', sid);
  t.is((await stale.get('/')).status, 302);
  t.is((await findAudit(main.app.server.app.db, { staffId: staff.id, action: 'logout' })).length, 1);
});

test('a logout posted from another site (no CSRF crumb) is refused and the session stays', async (t) => {
  const { accountId } = await clinician();
  const browser = main.app.client();
  await browser.get(local(await signInAt((await startLogin(browser)).href, accountId)));
  const forged = await browser.request('POST', '/logout', { form: {} });
  t.is(forged.status, 403);
  t.is((await browser.get('/calendar')).status, 200);
});

test('logout after a password login stays on this site', async (t) => {
  const { staff, password } = await clinician();
  const browser = main.app.client();
  await browser.login(staff.email, password);
  const out = await browser.submit('/logout', {}, '/');
  t.is(out.headers.get('location'), '/login?bye=true');
});

test('the login page offers the SITHS card next to the password form', async (t) => {
  const page = await main.app.client().get('/login?next=%2Fpassword');
  t.regex(page.text, /<a class="button" href="\/auth\/login\?next(=|&#x3D;)%2Fpassword">Logga in med SITHS-kort<\/a>/);
  t.regex(page.text, /name="next" value="\/password"/);
  t.regex(page.text, /id="password"/);
});

test('with LOCAL_LOGIN=off the password form is hidden and a posted password is refused', async (t) => {
  const { staff, password } = await strict.app.staff('clinician', undefined, { hsaId: hsa() });
  const browser = strict.app.client();
  const page = await browser.get('/login');
  t.regex(page.text, /Logga in med SITHS-kort/);
  t.notRegex(page.text, /id="password"/);
  const refused = await browser.login(staff.email, password);
  t.is(refused.status, 403);
  t.regex(refused.text, /Inloggning med lösenord är avstängd/);
  t.false(browser.cookies.has('samverka_sid'));
});

test('with LOCAL_LOGIN=off a new account signs in with SITHS and starts working: no password to change first', async (t) => {
  // Hospital IT adds the clinician on the admin pages, signed in with their own SITHS card.
  const adminHsa = hsa();
  const { staff: admin } = await strict.app.staff('admin', 'Administration', { hsaId: adminHsa });
  strict.idp.addAccount(`admin-${adminHsa}`, { name: admin.name, email: admin.email, hsaId: adminHsa });
  const it = strict.app.client();
  t.is((await it.get(local(await signInAt((await startLogin(it)).href, `admin-${adminHsa}`)))).status, 302);
  const unit = await findUnit(strict.app.server.app.db, { name: 'Administration' });
  const hsaId = hsa();
  const added = await it.submit(
    '/admin/staff',
    { name: 'Sigrid Sithsson', email: 'sigrid.sithsson@region.example', hsaId, unit: unit!.id, role: 'clinician' },
    '/admin/staff',
  );
  t.is(added.status, 201, added.text.slice(0, 300));
  // The clinician has a SITHS card and no password: passwords are off here.
  strict.idp.addAccount('sigrid', { name: 'Sigrid Sithsson', email: 'sigrid.sithsson@region.example', hsaId });
  const browser = strict.app.client();
  const landed = await browser.get(local(await signInAt((await startLogin(browser)).href, 'sigrid')));
  t.is(landed.headers.get('location'), '/');
  t.is((await browser.get('/')).headers.get('location'), '/calendar');
  t.is((await browser.get('/calendar')).status, 200);
});

test('LOCAL_LOGIN=off without an identity provider stops the start: nobody could log in', (t) => {
  const error = t.throws(
    () => loadConfig({ LOCAL_LOGIN: 'off', SESSION_SECRET: 'x'.repeat(32), DATA_KEY: 'a'.repeat(64) }),
    { instanceOf: ConfigError },
  );
  t.regex(error.message, /LOCAL_LOGIN must be one of \[on\]: use on or off; off needs OIDC_ISSUER/);
});

test('an unknown clinician gets an account in the configured unit when auto-provisioning is on', async (t) => {
  await strict.app.staff('clinician', 'Akutmottagningen'); // the unit exists
  const hsaId = hsa();
  strict.idp.addAccount('newcomer', { name: 'Ny Läkare', email: 'Ny.Lakare@region.example', hsaId });
  const browser = strict.app.client();
  const authorization = await startLogin(browser);
  const landed = await browser.get(local(await signInAt(authorization.href, 'newcomer')));
  t.is(landed.status, 302);
  const staff = await findStaff(strict.app.server.app.db, { hsaId });
  t.like(staff, { name: 'Ny Läkare', email: 'ny.lakare@region.example', role: 'clinician' });
  t.is((await findAudit(strict.app.server.app.db, { staffId: staff!.id, action: 'staff.provisioned' })).length, 1);
  // The next login finds the same account.
  const again = strict.app.client();
  t.is((await again.get(local(await signInAt((await startLogin(again)).href, 'newcomer')))).status, 302);
  t.is(await countRows(strict.app.server.app.db('staff').where({ hsa_id: hsaId })), 1);
});

test.serial(
  'two first SITHS logins of the same new person at once both get in, with one account between them',
  async (t) => {
    // Two tabs, or a double click on the way back from the provider: both callbacks find no account.
    const db = strict.app.server.app.db;
    await strict.app.staff('clinician', 'Akutmottagningen'); // the unit exists
    const hsaId = hsa();
    strict.idp.addAccount('twice', { name: 'Två Flikar', email: 'tva.flikar@region.example', hsaId });
    const browsers = [strict.app.client(), strict.app.client()];
    const callbacks = await Promise.all(
      browsers.map(async (browser) => local(await signInAt((await startLogin(browser)).href, 'twice'))),
    );
    // Both callbacks look and find no account before either adds one (racingInserts).
    const landed = await racingInserts(db, 'staff', 2, () =>
      Promise.all(browsers.map((browser, i) => browser.get(callbacks[i]!))),
    );
    t.deepEqual(
      landed.map((reply) => reply.status),
      [302, 302],
      landed.map((reply) => reply.text.slice(0, 200)).join('\n'),
    );
    for (const browser of browsers) t.is((await browser.get('/api/v1/me')).status, 200, 'each tab is logged in');
    t.is(await countRows(db('staff').where({ hsa_id: hsaId })), 1);
    const staff = present(await findStaff(db, { hsaId }), 'the account');
    t.is((await findAudit(db, { staffId: staff.id, action: 'staff.provisioned' })).length, 1);
  },
);

test('an account provisioned from an HSA-ID the provider sent in lower case holds it as SITHS cards carry it, in upper case', async (t) => {
  await strict.app.staff('clinician', 'Akutmottagningen'); // the unit exists
  const hsaId = hsa();
  strict.idp.addAccount('lower', {
    name: 'Liten Bokstav',
    email: 'liten.bokstav@region.example',
    hsaId: hsaId.toLowerCase(),
  });
  const browser = strict.app.client();
  t.is((await browser.get(local(await signInAt((await startLogin(browser)).href, 'lower')))).status, 302);
  const row = await strict.app.server.app.db('staff').where({ email: 'liten.bokstav@region.example' }).first();
  t.is(row?.hsa_id, hsaId, 'as the admin form saves it: one spelling on the staff pages');
});

test('a new e-mail address whose HSA-ID already has an account gets no second account, and a page that says so', async (t) => {
  // A clinician whose address changed at the region (a new surname, say) comes with the HSA-ID
  // their account already holds.
  const w = await emailWorld();
  await w.app.staff('clinician', 'Akutmottagningen');
  const hsaId = hsa();
  const { staff } = await w.app.staff('clinician', 'Akutmottagningen', { hsaId });
  w.idp.addAccount('renamed', { name: 'Anna Nygift', email: 'anna.nygift@region.example', hsaId });
  const browser = w.app.client();
  const landed = await browser.get(local(await signInAt((await startLogin(browser)).href, 'renamed')));
  t.is(landed.status, 403);
  t.regex(landed.text, /Ett konto kunde inte skapas åt dig automatiskt. Kontakta IT-avdelningen/);
  t.false(browser.cookies.has('samverka_sid'));
  t.is(await countRows(w.app.server.app.db('staff').where({ hsa_id: hsaId })), 1);
  t.like(await findStaff(w.app.server.app.db, { hsaId }), { id: staff.id, email: staff.email });
  const failures = await findAudit(w.app.server.app.db, { action: 'login.failed' });
  t.true(failures.some((a) => a.details?.reason === 'provision_failed' && a.details?.hsaId === hsaId));
});

test('accounts found by e-mail: an address the provider sends with a decomposed å finds the account stored with a composed one', async (t) => {
  const w = await emailWorld();
  const email = `åsa.ström.${hsa().slice(-6)}@region.example`;
  const { staff } = await w.app.staff('clinician', 'Akutmottagningen', { email });
  w.idp.addAccount(`nfd-${staff.id}`, { name: staff.name, email: email.normalize('NFD'), hsaId: hsa() });
  const browser = w.app.client();
  const landed = await browser.get(local(await signInAt((await startLogin(browser)).href, `nfd-${staff.id}`)));
  t.is(landed.status, 302);
  const logins = await findAudit(w.app.server.app.db, { staffId: staff.id, action: 'login' });
  t.deepEqual(
    logins.map((a) => a.details),
    [{ method: 'oidc' }],
    'signed in to the account there was, not a new one',
  );
});

test('accounts found by e-mail: a provider that sends no e-mail address is named as the missing part, not the HSA-ID', async (t) => {
  const w = await emailWorld();
  w.idp.addAccount('no-email', { name: 'Utan Adress', hsaId: hsa() });
  const browser = w.app.client();
  const landed = await browser.get(local(await signInAt((await startLogin(browser)).href, 'no-email')));
  t.is(landed.status, 403);
  t.regex(landed.text, /Inloggningstjänsten skickade ingen e-postadress för dig. Kontakta IT-avdelningen./);
  t.notRegex(landed.text, /HSA-id/);
});

test("the identity provider's discovery document is a readiness check", async (t) => {
  const ready = await main.app.client().get('/health/ready');
  t.true(ready.json().parts['identity provider'].ok, JSON.stringify(ready.json().parts));
});

test('an identity provider that does not answer gives a page after the timeout, not a hang', async (t) => {
  // Accepts connections and never answers, like a provider behind a dead proxy.
  const sockets: Socket[] = [];
  const silent: Server = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as { port: number }).port;
  const app = await startServer({
    env: { OIDC_ISSUER: `http://127.0.0.1:${port}`, OIDC_CLIENT_ID: 'samverka', OIDC_CLIENT_SECRET: 'secret' },
  });
  try {
    const [page, ready] = await Promise.all([app.client().get('/auth/login'), app.client().get('/health/ready')]);
    t.is(page.status, 503);
    t.regex(page.text, /Inloggningstjänsten svarar inte just nu/);
    t.false(ready.json().parts['identity provider'].ok);
  } finally {
    await app.stop();
    for (const socket of sockets) socket.destroy();
    silent.close();
  }
});
