// The admin's staff list in a region: thousands of accounts, searched in the database by the name
// rule (common/names.ts) and shown a page at a time (staff/store.ts, searchStaff).
import test from 'ava';
import { addStaff, addUnit, findStaff, hashedPassword } from '../../appliance/src/staff/index.ts';
import { everyDatabase } from '../helpers/databases.ts';
import { startServer, testPassword, type TestServer } from '../helpers/server.ts';
import { loggedIn } from '../meetings/_booking.ts';
import { createDb } from '../../appliance/src/db/knex.ts';
import { nameKey } from '../../appliance/src/common/names.ts';

// Created before any test is declared (ava wants them declared at once): the migration's test drops them.
const beforeNameKeys = await everyDatabase();

let app: TestServer;
test.before(async () => {
  app = await startServer();
});
test.after.always(() => app?.stop());

/** The staff list's rows: each account's name as the list links it. */
const names = (html: string) =>
  [...html.matchAll(/<th scope="row"><a href="\/admin\/staff\/[^"]+">([^<]+)<\/a>/g)].map((m) => m[1]);
const link = (html: string, label: string) =>
  new RegExp(`<a href="([^"]+)" rel="(?:prev|next)">${label}</a>`)
    .exec(html)?.[1]
    ?.replace(/&(amp|#x3D);/g, (_, e: string) => (e === 'amp' ? '&' : '='));

test("a unit of 230 accounts is listed a hundred at a time, in name order, and the search's pages keep the search", async (t) => {
  const { client: admin } = await loggedIn(app, 'admin', 'Administration');
  const db = app.server.app.db;
  const unit = await addUnit(db, { name: 'Vårdcentralen Storstad', phone: null });
  const numbered = (i: number) => `Person ${String(i).padStart(3, '0')}`;
  // Hashed once: 230 hashes would take longer than the test.
  const password = await hashedPassword(testPassword);
  for (let i = 1; i <= 230; i += 1)
    await addStaff(
      db,
      { email: `person.${i}@storstad.example`, name: numbered(i), role: 'clinician', unit: unit.name },
      password,
    );

  const first = await admin.get(`/admin/staff?unit=${unit.id}`);
  t.is(first.status, 200);
  t.deepEqual(
    names(first.text),
    Array.from({ length: 100 }, (_, i) => numbered(i + 1)),
  );
  t.regex(first.text, /Visar 1–100 av 230 personalkonton\./);
  t.is(link(first.text, 'Föregående sida'), undefined);

  const second = await admin.get(link(first.text, 'Nästa sida')!);
  t.deepEqual(
    names(second.text),
    Array.from({ length: 100 }, (_, i) => numbered(i + 101)),
  );
  const third = await admin.get(link(second.text, 'Nästa sida')!);
  t.deepEqual(
    names(third.text),
    Array.from({ length: 30 }, (_, i) => numbered(i + 201)),
  );
  t.regex(third.text, /Visar 201–230 av 230 personalkonton\./);
  t.is(link(third.text, 'Nästa sida'), undefined);
  t.is(await admin.get(link(third.text, 'Föregående sida')!).then((r) => names(r.text)[0]), numbered(101));

  // A search of that unit: 111 names have "1" in them (1, 10–19, 21, … 100–199, 201, 210–219, 221).
  const search = await admin.get(`/admin/staff?q=1&unit=${unit.id}`);
  const expected = Array.from({ length: 230 }, (_, i) => numbered(i + 1)).filter((n) => n.slice(7).includes('1'));
  t.regex(search.text, new RegExp(`Visar 1–100 av ${expected.length} personalkonton\\.`));
  const next = link(search.text, 'Nästa sida')!;
  t.regex(next, /q=1/);
  t.regex(next, new RegExp(`unit=${unit.id}`));
  t.deepEqual(names((await admin.get(next)).text), expected.slice(100));

  // A page past the end says nothing matches there, and leads back to the last page.
  const beyond = await admin.get(`/admin/staff?unit=${unit.id}&page=9`);
  t.regex(beyond.text, /Inga personalkonton matchar/);
  t.regex(link(beyond.text, 'Föregående sida')!, /page=3/);
  t.is((await admin.get(`/admin/staff?page=0`)).status, 400);
});

test('a unit of a few people is one page, with no page links', async (t) => {
  const { client: admin } = await loggedIn(app, 'admin', 'Administration');
  const { staff } = await app.staff('clinician', 'Liten enhet');
  const list = await admin.get(`/admin/staff?unit=${staff.unitId}`);
  t.deepEqual(names(list.text), [staff.name]);
  t.notRegex(list.text, /Visar \d/);
  t.is(link(list.text, 'Nästa sida'), undefined);
});

test('% and _ typed into the search are letters, not wildcards', async (t) => {
  const { client: admin } = await loggedIn(app, 'admin', 'Administration');
  const { staff } = await app.staff('clinician', 'Jokertecken', { name: 'Anna 100% Berg' });
  const { staff: other } = await app.staff('clinician', 'Jokertecken', { name: 'Anna Bergström' });
  const found = (typed: string) =>
    admin.get(`/admin/staff?unit=${staff.unitId}&q=${encodeURIComponent(typed)}`).then((r) => names(r.text));
  t.deepEqual(await found('100%'), [staff.name]);
  t.deepEqual(await found('%'), [staff.name]);
  t.deepEqual(await found('_'), []);
  t.deepEqual(await found('anna_'), []);
  t.deepEqual(await found('ANNA'), [staff.name, other.name]);
  t.deepEqual(await found('\\'), []);
});

test('a renamed account is found by its new name, not its old one; an HSA-ID and an address by a part in any case', async (t) => {
  const { client: admin } = await loggedIn(app, 'admin', 'Administration');
  const { staff } = await app.staff('clinician', 'Omdöpta', {
    name: 'Karin Ståhl',
    hsaId: 'SE2321000131-P000000099887',
  });
  const unit = `unit=${staff.unitId}`;
  const found = (typed: string) =>
    admin.get(`/admin/staff?${unit}&q=${encodeURIComponent(typed)}`).then((r) => names(r.text));
  t.deepEqual(await found('p000000099887'), ['Karin Ståhl']);
  t.deepEqual(await found(staff.email.slice(0, 12).toUpperCase()), ['Karin Ståhl']);
  await admin.get(`/admin/staff/${staff.id}`);
  const edited = await admin.submit(`/admin/staff/${staff.id}`, {
    name: 'Karin Ödman',
    email: staff.email,
    hsaId: staff.hsaId ?? '',
    unit: staff.unitId,
    role: 'clinician',
  });
  t.is(edited.status, 200);
  t.deepEqual(await found('ÖDMAN'), ['Karin Ödman']);
  t.deepEqual(await found('ståhl'), []);
});

for (const database of beforeNameKeys) {
  test.serial(`the migration gives every account its name by the name rule (${database.kind})`, async (t) => {
    const db = createDb(database.url);
    try {
      await db.migrate.latest();
      await db.migrate.down({ name: '0034_staff_name_key' });
      const at = new Date().toISOString();
      await db('care_units').insert({ id: 'u1', name: 'Barnkliniken', created_at: at });
      const name = 'ÅSA Ödlund-O’Brien'.normalize('NFD');
      await db('staff').insert({
        id: 's1',
        email: 'a@region.example',
        name,
        role: 'clinician',
        unit_id: 'u1',
        created_at: at,
      });
      await db.migrate.latest();
      t.deepEqual(await db('staff').select('name_key'), [{ name_key: nameKey(name) }]);
      t.is(nameKey(name), "åsa ödlund-o'brien");
      t.truthy(await findStaff(db, { id: 's1' }));
    } finally {
      await db.destroy();
      await database.drop();
    }
  });
}
