import test from 'ava';
import { createToken, disableStaff, revokeToken } from '../../appliance/src/staff/service.ts';
import { listTokens, setDisabled } from '../../appliance/src/staff/store.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer();
});
test.after.always(() => app?.stop());

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

test('a hospital system reads /api/v1/me with a bearer token', async (t) => {
  const { staff } = await app.staff('clinician');
  const { token } = await createToken(app.server.app.db, staff.email, 'journal');
  t.regex(token, /^smv_[A-Za-z0-9_-]{43}$/);
  const reply = await app.client().get('/api/v1/me', bearer(token));
  t.is(reply.status, 200);
  const me = reply.json();
  t.is(me.email, staff.email);
  t.is(me.role, 'clinician');
  t.is(me.unit.name, 'Barn- och ungdomsmedicin');
});

test('tokens are stored only as hashes', async (t) => {
  const { staff } = await app.staff('clinician');
  const { token } = await createToken(app.server.app.db, staff.email, 'hashed');
  const rows = await app.server.app.db('api_tokens').where({ staff_id: staff.id });
  t.is(rows.length, 1);
  t.not(rows[0].token_hash, token);
  t.false(JSON.stringify(rows).includes(token));
});

test('a revoked token, an unknown token and a disabled account are refused', async (t) => {
  const { staff } = await app.staff('clinician');
  const db = app.server.app.db;
  const { token } = await createToken(db, staff.email, 'kalender');
  t.is((await app.client().get('/api/v1/me', bearer(token))).status, 200);
  await revokeToken(db, staff.email, 'kalender');
  const revoked = await app.client().get('/api/v1/me', bearer(token));
  t.is(revoked.status, 401);
  t.regex(revoked.json().message, /Okänd eller återkallad API-token/);
  t.is((await app.client().get('/api/v1/me', bearer('smv_nonsense'))).status, 401);
  t.is((await app.client().get('/api/v1/me', { authorization: 'Basic abc' })).status, 401);
  const other = await app.staff('clinician');
  const second = await createToken(db, other.staff.email, 'x');
  await disableStaff(db, other.staff.email);
  t.is((await app.client().get('/api/v1/me', bearer(second.token))).status, 401);
});

test('disabling an account revokes its API tokens: enabled again, the person needs new ones', async (t) => {
  // An account is disabled because its person left or a token may have leaked: a script somewhere
  // that still holds the old token must not start working again the day the account is re-enabled.
  const { staff } = await app.staff('clinician');
  const db = app.server.app.db;
  const { token } = await createToken(db, staff.email, 'journal');
  t.is((await app.client().get('/api/v1/me', bearer(token))).status, 200);
  await disableStaff(db, staff.email);
  t.is((await app.client().get('/api/v1/me', bearer(token))).status, 401);
  t.deepEqual(
    (await listTokens(db, staff.id)).map((k) => k.revoked),
    [true],
    'the admin page lists it as revoked, not active',
  );
  await setDisabled(db, staff.id, false);
  t.is((await app.client().get('/api/v1/me', bearer(token))).status, 401, 'the old token stays revoked');
  const fresh = await createToken(db, staff.email, 'journal');
  t.is((await app.client().get('/api/v1/me', bearer(fresh.token))).status, 200, 'a new one under the same name works');
});

test("the token's last use is recorded", async (t) => {
  const { staff } = await app.staff('clinician');
  const { token, tokenId } = await createToken(app.server.app.db, staff.email, 'use');
  await app.client().get('/api/v1/me', bearer(token));
  const row = await app.server.app.db('api_tokens').where({ id: tokenId }).first();
  t.truthy(row.last_used_at);
});

test("the API's refusals of a missing, malformed or unknown token say what to do in the caller's language, and all unknown tokens alike", async (t) => {
  const { staff } = await app.staff('clinician');
  const db = app.server.app.db;
  const { token } = await createToken(db, staff.email, 'journal');
  await revokeToken(db, staff.email, 'journal');
  const other = await app.staff('clinician');
  const ofDisabled = await createToken(db, other.staff.email, 'journal');
  await disableStaff(db, other.staff.email);
  const refusal = async (headers: Record<string, string>) => {
    const reply = await app.client().get('/api/v1/me', headers);
    t.is(reply.status, 401);
    return reply.json<{ message: string }>().message;
  };
  const english = { 'accept-language': 'en' };
  t.is(await refusal({}), 'Logga in, eller skicka en API-token: Authorization: Bearer <token>.');
  t.is(await refusal(english), 'Log in, or send an API token: Authorization: Bearer <token>.');
  t.is(await refusal({ authorization: 'Basic abc' }), 'Authorization ska vara "Bearer <token>".');
  t.is(await refusal({ authorization: 'Basic abc', ...english }), 'Authorization must be "Bearer <token>".');
  // A token of no account, a revoked one and a disabled account's: one answer, naming no account.
  for (const unknown of ['smv_nonsense', 'not-even-ours', token, ofDisabled.token]) {
    t.is(await refusal(bearer(unknown)), 'Okänd eller återkallad API-token.', unknown);
    t.is(await refusal({ ...bearer(unknown), ...english }), 'Unknown or revoked API token.', unknown);
  }
});

test('the API also works with the session cookie, and without either it answers 401 JSON', async (t) => {
  const { staff, password } = await app.staff('support');
  const browser = app.client();
  t.is((await browser.get('/api/v1/me')).status, 401);
  await browser.login(staff.email, password);
  const reply = await browser.get('/api/v1/me');
  t.is(reply.status, 200);
  t.is(reply.json().role, 'support');
});

test('a token name is unique per account until revoked', async (t) => {
  const { staff } = await app.staff('clinician');
  const db = app.server.app.db;
  await createToken(db, staff.email, 'twice');
  await t.throwsAsync(createToken(db, staff.email, 'twice'), { message: /already has a token named "twice"/ });
  await revokeToken(db, staff.email, 'twice');
  await t.notThrowsAsync(createToken(db, staff.email, 'twice'));
});

test('the OpenAPI document describes /me with bearer security, and the docs page is served to staff and tokens only', async (t) => {
  const { staff } = await app.staff('clinician');
  const { token } = await createToken(app.server.app.db, staff.email, 'docs');
  const doc = (await app.client().get('/api/v1/openapi.json', bearer(token))).json();
  t.truthy(doc.paths['/me'] ?? doc.paths['/api/v1/me']);
  t.truthy(doc.components.securitySchemes.bearer);
  const page = await app.client().get('/api/docs', bearer(token));
  t.is(page.status, 200);
  t.regex(page.text, /swagger/i);
  t.is((await app.client().get('/api/v1/openapi.json')).status, 401, 'not for the public');
  const anonymous = await app.client().get('/api/docs');
  t.is(anonymous.status, 302);
  t.is(anonymous.headers.get('location'), '/login?next=%2Fapi%2Fdocs', 'a person is sent to log in first');
});
