// Hospital IT manages staff and care units from the admin pages; every change is in the audit log.
import test from 'ava';
import { findAudit } from '../../appliance/src/audit/store.ts';
import { findStaff, findUnit, listTokens } from '../../appliance/src/staff/store.ts';
import { insertResult } from '../../appliance/src/techtest/store.ts';
import { countRows, racingInserts } from '../helpers/databases.ts';
import { present } from '../helpers/present.ts';
import { startServer, testPassword, type TestServer } from '../helpers/server.ts';
import { passedAnswers } from '../helpers/techtest.ts';
import { loggedIn } from '../meetings/_booking.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer();
});
test.after.always(() => app?.stop());

const oneTimePassword = (html: string) => /aria-label="Engångslösenord">([^<]+)</.exec(html)?.[1];
const newToken = (html: string) => /aria-label="Ny API-nyckel">([^<]+)</.exec(html)?.[1];

test('an admin adds a staff member, who logs in with the one-time password and must change it', async (t) => {
  const { client: admin, staff: adminStaff } = await loggedIn(app, 'admin', 'Administration');
  await admin.get('/admin/staff');
  const unit = await findUnit(app.server.app.db, { name: 'Administration' });
  const added = await admin.submit('/admin/staff', {
    name: 'Lena Nord',
    email: 'Lena.Nord@region.example',
    hsaId: 'SE2321000131-P000000000001',
    unit: unit!.id,
    role: 'clinician',
  });
  t.is(added.status, 201);
  t.regex(added.text, /Lena Nord har lagts till/);
  const password = oneTimePassword(added.text);
  t.truthy(password);
  const lena = await findStaff(app.server.app.db, { email: 'lena.nord@region.example' });
  t.is(lena?.hsaId, 'SE2321000131-P000000000001');
  t.true(lena?.mustChangePassword);

  const client = app.client();
  const login = await client.login('lena.nord@region.example', password!);
  t.is(login.headers.get('location'), '/password');

  const again = await admin.submit('/admin/staff', {
    name: 'Lena Nord 2',
    email: 'lena.nord@region.example',
    unit: unit!.id,
    role: 'clinician',
  });
  t.is(again.status, 409);
  t.regex(again.text, /E-postadressen används redan/);
  const sameHsa = await admin.submit('/admin/staff', {
    name: 'Annan',
    email: 'annan@region.example',
    hsaId: 'SE2321000131-P000000000001',
    unit: unit!.id,
    role: 'clinician',
  });
  t.is(sameHsa.status, 409);
  t.regex(sameHsa.text, /HSA-id:t används redan/);

  const [record] = await findAudit(app.server.app.db, { action: 'staff.add', staffId: adminStaff.id });
  t.is(record?.targetId, lena!.id);
});

test.serial(
  'the add form sent twice at once (a double click) adds one account and says the second is taken',
  async (t) => {
    const { client: admin } = await loggedIn(app, 'admin', 'Administration');
    await admin.get('/admin/staff');
    const unit = present(await findUnit(app.server.app.db, { name: 'Administration' }), 'the unit');
    const form = {
      name: 'Dubbel Klick',
      email: 'dubbel.klick@region.example',
      hsaId: '',
      unit: unit.id,
      role: 'clinician',
    };
    const replies = await racingInserts(app.server.app.db, 'staff', 2, () =>
      Promise.all([admin.submit('/admin/staff', form), admin.submit('/admin/staff', form)]),
    );
    t.deepEqual(replies.map((r) => r.status).sort(), [201, 409], replies.map((r) => r.text.slice(0, 300)).join('\n'));
    t.regex(
      present(
        replies.find((r) => r.status === 409),
        'the refusal',
      ).text,
      /E-postadressen används redan/,
    );
    t.is(await countRows(app.server.app.db('staff').where({ email: form.email })), 1);
  },
);

test("the admin's staff search finds a name by its Swedish letters in either case, by the name rule", async (t) => {
  const { client: admin } = await loggedIn(app, 'admin', 'Administration');
  const { staff } = await app.staff('clinician', 'Neurologi', { name: 'Åsa Ödlund-O’Brien' });
  for (const typed of ['åsa', 'ÅSA', 'ödlund', "o'brien", 'Åsa Ödlund-O’Brien'.normalize('NFD'), 'ÖDLUND-O']) {
    const list = await admin.get(`/admin/staff?q=${encodeURIComponent(typed)}`);
    t.true(list.text.includes(staff.email), typed);
  }
  const none = await admin.get(`/admin/staff?q=${encodeURIComponent('åsa ödlund-x')}`);
  t.regex(none.text, /Inga personalkonton matchar/);
});

test('an admin searches, edits and disables a staff member; disabling ends their session', async (t) => {
  const { client: admin } = await loggedIn(app, 'admin', 'Administration');
  const { client: clinician, staff } = await loggedIn(app, 'clinician', 'Neurologi');
  const list = await admin.get(`/admin/staff?q=${encodeURIComponent(staff.email.slice(0, 14).toUpperCase())}`);
  t.true(list.text.includes(staff.name));
  const other = await admin.get('/admin/staff?q=nobody-by-this-name');
  t.regex(other.text, /Inga personalkonton matchar/);

  const unit = await findUnit(app.server.app.db, { name: 'Administration' });
  const edited = await admin.submit(`/admin/staff/${staff.id}`, {
    name: 'Ny Namnsson',
    email: staff.email,
    hsaId: '',
    unit: unit!.id,
    role: 'support',
  });
  t.is(edited.status, 200);
  t.regex(edited.text, /Ändringarna är sparade/);
  const after = await findStaff(app.server.app.db, { id: staff.id });
  t.is(after?.name, 'Ny Namnsson');
  t.is(after?.role, 'support');
  t.is(after?.unitId, unit!.id);

  t.is((await clinician.get('/profile')).status, 200);
  const disabled = await admin.submit(`/admin/staff/${staff.id}/disable`, {});
  t.regex(disabled.text, /konto är avstängt och utloggat/);
  t.is((await clinician.get('/profile')).status, 302, 'the session ended at once');
  await admin.submit(`/admin/staff/${staff.id}/enable`, {});
  t.false((await findStaff(app.server.app.db, { id: staff.id }))?.disabled);
  const actions = (await findAudit(app.server.app.db, {})).filter((r) => r.targetId === staff.id).map((r) => r.action);
  t.deepEqual(actions.filter((a) => a.startsWith('staff.')).sort(), ['staff.disable', 'staff.enable', 'staff.update']);
});

test('a clinician who forgot their password, and locked the account guessing, gets a new one-time password from IT', async (t) => {
  const { client: admin } = await loggedIn(app, 'admin', 'Administration');
  const { client: clinician, staff } = await loggedIn(app, 'clinician', 'Neurologi');
  // On another computer the clinician guesses until the account locks.
  for (let i = 0; i < 5; i += 1) await app.client().login(staff.email, `glömt-${i}`);
  t.is((await app.client().login(staff.email, testPassword)).status, 401, 'locked: even the right one is refused');

  const { client: colleague } = await loggedIn(app, 'clinician', 'Neurologi');
  t.is((await colleague.submit(`/admin/staff/${staff.id}/password`, {}, '/calendar')).status, 403, 'admins only');
  const page = await admin.get(`/admin/staff/${staff.id}`);
  t.regex(page.text, /<button[^>]*>Ge nytt engångslösenord<\/button>/);
  const reset = await admin.submit(`/admin/staff/${staff.id}/password`, {});
  t.is(reset.status, 200);
  t.regex(reset.text, /fått ett nytt engångslösenord/);
  const password = present(oneTimePassword(reset.text), 'the new one-time password');
  t.is((await clinician.get('/profile')).status, 302, 'the sessions opened with the old password end');
  t.is((await app.client().login(staff.email, testPassword)).status, 401, 'the old password no longer works');
  const fresh = app.client();
  const login = await fresh.login(staff.email, password);
  t.is(login.status, 302, 'the lock is lifted: the new password works at once');
  t.is(login.headers.get('location'), '/password', 'and must be changed first');
  const records = await findAudit(app.server.app.db, { action: 'staff.password_reset' });
  t.is(records.filter((r) => r.targetId === staff.id).length, 1);
});

test('an admin does not reset their own password on the staff page: they change it on the password page', async (t) => {
  const { client: admin, staff } = await loggedIn(app, 'admin', 'Administration');
  const own = await admin.submit(`/admin/staff/${staff.id}/password`, {});
  t.is(own.status, 409);
  t.regex(own.text, /Byt ditt eget lösenord på sidan Byt lösenord/);
  t.is((await admin.get('/admin/staff')).status, 200, 'still logged in');
});

test('an admin cannot disable their own account or drop their own admin role', async (t) => {
  const { client: admin, staff } = await loggedIn(app, 'admin', 'Administration');
  const own = await admin.submit(`/admin/staff/${staff.id}/disable`, {});
  t.is(own.status, 409);
  const demote = await admin.submit(`/admin/staff/${staff.id}`, {
    name: staff.name,
    email: staff.email,
    unit: staff.unitId,
    role: 'clinician',
  });
  t.is(demote.status, 409);
  t.is((await findStaff(app.server.app.db, { id: staff.id }))?.role, 'admin');
});

test('an API token is shown once, works, shows its last use and stops working when revoked', async (t) => {
  const { client: admin } = await loggedIn(app, 'admin', 'Administration');
  const { staff } = await app.staff('clinician', 'Neurologi');
  await admin.get('/admin/staff');
  const created = await admin.submit(`/admin/staff/${staff.id}/tokens`, { name: 'journalsystem' });
  t.is(created.status, 201);
  const token = newToken(created.text);
  t.regex(token ?? '', /^smv_/);
  const page = await admin.get(`/admin/staff/${staff.id}`);
  t.false(page.text.includes(token!), 'shown once only');
  t.regex(page.text, /journalsystem/);

  const api = app.client();
  t.is((await api.get('/api/v1/me', { authorization: `Bearer ${token}` })).status, 200);
  const info = present((await listTokens(app.server.app.db, staff.id))[0], 'the new API token');
  t.truthy(info.lastUsedAt);
  t.is((await admin.submit(`/admin/staff/${staff.id}/tokens`, { name: 'journalsystem' })).status, 409);

  const revoked = await admin.submit(`/admin/staff/${staff.id}/tokens/${info.id}/revoke`, {});
  t.regex(revoked.text, /Nyckeln är återkallad/);
  t.is((await api.get('/api/v1/me', { authorization: `Bearer ${token}` })).status, 401);
  t.is((await admin.submit(`/admin/staff/${staff.id}/tokens/${info.id}/revoke`, {})).status, 404);
  t.deepEqual(
    (await findAudit(app.server.app.db, { action: 'token.revoke' })).filter((r) => r.targetId === info.id).length,
    1,
  );
});

test('a disabled account gets no new API token: the page says to enable it first', async (t) => {
  // Its tokens were revoked with the disable; a new one would work the day it is enabled, unseen.
  const { client: admin } = await loggedIn(app, 'admin', 'Administration');
  const { staff } = await app.staff('clinician', 'Neurologi');
  await admin.submit(`/admin/staff/${staff.id}/disable`, {}, '/admin');
  const refused = await admin.submit(`/admin/staff/${staff.id}/tokens`, { name: 'journalsystem' });
  t.is(refused.status, 409);
  t.regex(refused.text, /Kontot är avstängt: aktivera det först/);
  t.deepEqual(await listTokens(app.server.app.db, staff.id), []);
});

test('an API token is named in Swedish, å, ä and ö included', async (t) => {
  const { client: admin } = await loggedIn(app, 'admin', 'Administration');
  const { staff } = await app.staff('clinician', 'Neurologi');
  await admin.get('/admin/staff');
  const created = await admin.submit(`/admin/staff/${staff.id}/tokens`, { name: 'Journalsystem Södra Älvsborg' });
  t.is(created.status, 201, created.text);
  t.regex(created.text, /role="status">Nyckeln Journalsystem Södra Älvsborg är skapad/);
  t.truthy(newToken(created.text));
  t.deepEqual(
    (await listTokens(app.server.app.db, staff.id)).map((token) => token.name),
    ['Journalsystem Södra Älvsborg'],
  );
  // The same letters as a Mac pastes them (a + combining ring), too.
  const decomposed = await admin.submit(`/admin/staff/${staff.id}/tokens`, { name: 'Åsa'.normalize('NFD') });
  t.is(decomposed.status, 201);
  t.true((await listTokens(app.server.app.db, staff.id)).some((token) => token.name === 'Åsa'.normalize('NFC')));
  // A name the form cannot take says what a token's name may hold (not what a staff account needs).
  const refused = await admin.submit(`/admin/staff/${staff.id}/tokens`, { name: 'journal/system' });
  t.is(refused.status, 400);
  t.regex(refused.text, /Ge nyckeln ett namn av bokstäver, siffror/);
});

test('care units are added and renamed with the phone number invitations show', async (t) => {
  const { client: admin } = await loggedIn(app, 'admin', 'Administration');
  await admin.get('/admin/units');
  const added = await admin.submit('/admin/units', { name: 'Barnhabilitering Väst', phone: '010-441 00 00' });
  t.is(added.status, 201);
  const unit = await findUnit(app.server.app.db, { name: 'Barnhabilitering Väst' });
  t.is(unit?.phone, '010-441 00 00');
  t.is((await admin.submit('/admin/units', { name: 'Barnhabilitering Väst' })).status, 409);
  // The same name pasted from a Mac (ä as a + combining diaeresis), with a double space or in other
  // letter case is the same unit: refused, not a second one the clinicians cannot tell apart.
  for (const same of ['Barnhabilitering Va\u0308st', 'Barnhabilitering  Väst ', 'barnhabilitering väst']) {
    const again = await admin.submit('/admin/units', { name: same });
    t.is(again.status, 409, JSON.stringify(same));
    t.regex(again.text, /Det finns redan en vårdenhet med det namnet/);
  }
  const added2 = await admin.submit('/admin/units', { name: 'Barnhabilitering  O\u0308st ' });
  t.is(added2.status, 201);
  t.is(
    (await findUnit(app.server.app.db, { name: 'Barnhabilitering Öst' }))?.name,
    'Barnhabilitering Öst',
    'stored tidy',
  );
  t.is((await admin.submit('/admin/units', { name: 'X', phone: 'ring mig' })).status, 400);
  const renamed = await admin.submit(`/admin/units/${unit!.id}`, {
    name: 'Barn- och ungdomshabilitering Väst',
    phone: '',
  });
  t.is(renamed.status, 200);
  t.deepEqual(await findUnit(app.server.app.db, { id: unit!.id }), {
    id: unit!.id,
    name: 'Barn- och ungdomshabilitering Väst',
    phone: null,
  });
  const [record] = (await findAudit(app.server.app.db, { action: 'unit.update' })).filter(
    (r) => r.targetId === unit!.id,
  );
  t.is((record?.details as { from: { name: string } }).from.name, 'Barnhabilitering Väst');
});

test('a clinician sees their own profile but not the staff pages', async (t) => {
  const { client, staff } = await loggedIn(app, 'clinician', 'Neurologi');
  const profile = await client.get('/profile');
  t.is(profile.status, 200);
  t.true(profile.text.includes(staff.email));
  t.regex(profile.text, /Du har inte gjort något tekniktest/);
  t.is((await client.get('/admin/staff')).status, 403);
  t.false((await client.get('/profile')).text.includes('href="/admin"'), 'no admin link in the navigation');
});

test('the profile that says no technical test was run offers one, and the test comes back to the profile', async (t) => {
  const { client } = await loggedIn(app, 'clinician', 'Neurologi');
  const profile = await client.get('/profile');
  t.regex(profile.text, /<a href="\/techtest\?next(=|&#x3D;)\/profile">Gör ett tekniktest<\/a>/);
  t.is((await client.get('/techtest?next=/profile')).status, 200);
  await client.get('/lang/en?next=/profile');
  t.regex((await client.get('/profile')).text, />Run a technical test<\/a>/);
});

test("a clinician's profile shows the tech test they ran in this session", async (t) => {
  const { client, staff } = await loggedIn(app, 'clinician', 'Neurologi');
  // The session's subject is the hash of its id, which is also the session row's key.
  const session = await app.server.app.db('staff_sessions').where({ staff_id: staff.id }).first('id');
  await insertResult(app.server.app.db, {
    subject: { type: 'staff_session', id: session.id },
    verdict: 'poor',
    browser: 'Chrome 130',
    os: 'Windows 11',
    testedAt: new Date(),
    // A passed test's answers, on a network that carries less: the result recorded as poor.
    ...passedAnswers,
    microphoneLevel: 0.2,
    network: { ...passedAnswers.network, throughputKbps: null, downloadKbps: 9000, uploadKbps: 4000, durationMs: 3000 },
  });
  const profile = await client.get('/profile');
  t.regex(profile.text, /Det kan hacka: mötet fungerar, men bild och ljud kan bli ryckiga\./);
  t.regex(profile.text, /med Chrome 130 på Windows 11/);
});

test('a staff form with missing fields says what is needed', async (t) => {
  const { client: admin } = await loggedIn(app, 'admin', 'Administration');
  await admin.get('/admin/staff');
  const reply = await admin.submit('/admin/staff', { name: '', email: 'inte-en-adress', unit: 'x', role: 'boss' });
  t.is(reply.status, 400);
  t.regex(reply.text, /Kontrollera uppgifterna/);
});
