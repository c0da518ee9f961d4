import test from 'ava';
import { createDb, isSqlite } from '../../appliance/src/db/knex.ts';
import { everyDatabase, passEngine, sqliteDatabase } from '../helpers/databases.ts';

const databases = await everyDatabase();
// Each test drops its databases: one more set for the data migration's test.
const beforeSessionKeys = await everyDatabase();

for (const database of databases) {
  test.serial(`migrations apply, roll back and apply again on ${database.kind}`, async (t) => {
    const db = createDb(database.url);
    try {
      const [, applied] = await db.migrate.latest();
      t.true(applied.includes('0001_foundation'));
      for (const table of ['care_units', 'staff', 'staff_sessions', 'api_tokens', 'audit_log']) {
        t.true(await db.schema.hasTable(table), table);
      }
      const [, pending] = await db.migrate.list();
      t.deepEqual(pending, []);
      await db.migrate.rollback(undefined, true);
      t.false(await db.schema.hasTable('staff'));
      await db.migrate.latest();
      t.true(await db.schema.hasTable('staff'));
    } finally {
      await db.destroy();
      await database.drop();
    }
  });
}

for (const database of beforeSessionKeys) {
  test.serial(
    `a staff session open before migration 0023 gets its id as its key, which its technical test is stored under, on ${database.kind}`,
    async (t) => {
      const db = createDb(database.url);
      try {
        await db.migrate.latest();
        await db.migrate.down({ name: '0023_staff_session_key' });
        const at = new Date().toISOString();
        await db('care_units').insert({ id: 'u1', name: 'Barnkliniken', created_at: at });
        await db('staff').insert({
          id: 's1',
          email: 'a@region.example',
          name: 'A',
          role: 'clinician',
          unit_id: 'u1',
          created_at: at,
        });
        const id = 'f'.repeat(64);
        await db('staff_sessions').insert({ id, staff_id: 's1', created_at: at, expires_at: at, method: 'password' });
        await db.migrate.latest();
        t.deepEqual(await db('staff_sessions').select('id', 'session_key'), [{ id, session_key: id }]);
      } finally {
        await db.destroy();
        await database.drop();
      }
    },
  );
}

// SQLite's own settings: checked in the SQLite pass (and when this file runs on its own).
if (passEngine() === 'sqlite')
  test('SQLite runs in WAL mode with synchronous=NORMAL (the dialect syncs the log: test/db/durable.ts), a busy timeout and foreign keys', async (t) => {
    const database = sqliteDatabase();
    const db = createDb(database.url);
    try {
      t.true(isSqlite(db));
      const pragma = async (name: string) => Object.values((await db.raw(`pragma ${name}`))[0])[0];
      t.is(await pragma('journal_mode'), 'wal');
      t.is(await pragma('synchronous'), 1); // NORMAL
      t.is(await pragma('foreign_keys'), 1);
      t.is(await pragma('busy_timeout'), 5000);
    } finally {
      await db.destroy();
      await database.drop();
    }
  });
