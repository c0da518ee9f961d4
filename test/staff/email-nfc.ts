// A staff e-mail address is one address whichever keyboard typed it: "å" is one code point from a
// Windows keyboard and "a" with a combining ring from macOS, a phone or a pasted text. Addresses are
// stored and found in Unicode NFC (staff/store.ts, normaliseEmail), the stored ones were made so by
// a migration, which refuses, naming both, when two accounts would become one address.
import test from 'ava';
import { createDb } from '../../appliance/src/db/knex.ts';
import { findStaff, findUnit } from '../../appliance/src/staff/store.ts';
import { everyDatabase } from '../helpers/databases.ts';
import { present } from '../helpers/present.ts';
import { startServer, testPassword, type TestServer } from '../helpers/server.ts';
import { loggedIn } from '../meetings/_booking.ts';

const composed = (local: string) => `${local}@region.example`.normalize('NFC');
const decomposed = (local: string) => `${local}@region.example`.normalize('NFD');

// Each of the migration's tests drops its database: declared before the other tests.
const migrationDatabases = await everyDatabase();

let app: TestServer;
test.before(async () => {
  app = await startServer();
});
test.after.always(() => app?.stop());

test('a staff member logs in with their address typed with a decomposed å, and with a composed one', async (t) => {
  for (const [stored, typed] of [
    [composed('åsa.ström'), decomposed('åsa.ström')],
    [decomposed('björn.ångman'), composed('björn.ångman')],
  ] as const) {
    t.not(stored, typed);
    const { staff } = await app.staff('clinician', undefined, { email: stored });
    t.is(staff.email, stored.normalize('NFC'), 'stored in NFC');
    const reply = await app.client().login(typed, testPassword);
    t.is(reply.status, 302, `${JSON.stringify(typed)} finds ${JSON.stringify(stored)}`);
  }
});

test("the admin's forms take an address typed decomposed as the one stored composed", async (t) => {
  const { client: admin } = await loggedIn(app, 'admin', 'Administration');
  const { staff } = await app.staff('clinician', undefined, { email: composed('örjan.älv') });
  const unit = present(await findUnit(app.server.app.db, { name: 'Administration' }), 'the unit');
  await admin.get('/admin/staff');
  const again = await admin.submit('/admin/staff', {
    name: 'Örjan Älv',
    email: decomposed('örjan.älv'),
    unit: unit.id,
    role: 'clinician',
  });
  t.is(again.status, 409, 'the same address: not a second account');
  t.regex(again.text, /E-postadressen används redan/);
  const list = await admin.get(`/admin/staff?q=${encodeURIComponent(decomposed('örjan.älv'))}`);
  t.true(list.text.includes(staff.name), 'the list finds the account by the address typed decomposed');
  const added = await admin.submit('/admin/staff', {
    name: 'Åke Ödman',
    email: decomposed('åke.ödman'),
    unit: unit.id,
    role: 'clinician',
  });
  t.is(added.status, 201);
  t.is(present(await findStaff(app.server.app.db, { email: composed('åke.ödman') }), 'Åke').name, 'Åke Ödman');
  t.is(
    await app.server.app
      .db('staff')
      .where({ email: decomposed('åke.ödman') })
      .first(),
    undefined,
  );
});

for (const database of migrationDatabases) {
  test.serial(
    `the migration stores addresses in NFC, and refuses, naming both, two accounts that would be one (${database.kind})`,
    async (t) => {
      const db = createDb(database.url);
      try {
        await db.migrate.latest();
        const [applied] = (await db.migrate.list()) as [{ name: string }[], unknown];
        const name = present(
          applied.map((m) => m.name.replace(/\.(ts|js)$/, '')).find((m) => m.endsWith('_staff_email_nfc')),
          'the migration',
        );
        await db.migrate.down({ name });
        const at = new Date().toISOString();
        await db('care_units').insert({ id: 'u1', name: 'Barnkliniken', created_at: at });
        const staff = (id: string, email: string) =>
          db('staff').insert({ id, email, name: id, role: 'clinician', unit_id: 'u1', created_at: at });
        await staff('s1', decomposed('åsa.ström'));
        await staff('s2', 'anna@region.example');
        await db.migrate.latest();
        t.deepEqual(await db('staff').orderBy('id').select('id', 'email'), [
          { id: 's1', email: composed('åsa.ström') },
          { id: 's2', email: 'anna@region.example' },
        ]);

        await db.migrate.down({ name });
        await staff('s3', decomposed('åsa.ström'));
        const refused = await t.throwsAsync(db.migrate.latest());
        t.regex(present(refused, 'the refusal').message, /two accounts would have the same address/);
        t.true(
          refused.message.includes(
            `staff s1 (${composed('åsa.ström')}, written composed) and staff s3 (${decomposed('åsa.ström')}, written decomposed) are both ${composed('åsa.ström')}`,
          ),
          refused.message,
        );
        t.deepEqual(
          await db('staff').whereIn('id', ['s1', 's3']).orderBy('id').select('id', 'email'),
          [
            { id: 's1', email: composed('åsa.ström') },
            { id: 's3', email: decomposed('åsa.ström') },
          ],
          'nothing merged, nothing changed',
        );
      } finally {
        await db.destroy();
        await database.drop();
      }
    },
  );
}
