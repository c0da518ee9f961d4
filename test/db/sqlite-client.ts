// The SQLite dialect keeps prepared statements (appliance/src/db/sqlite-client.ts): the same SQL runs
// again with new bindings and gives the same answers knex's own dialect gives, a migration's change
// to a table is seen by a kept statement, and no more statements are kept than the bound.
import test from 'ava';
import { clientOf, createDb } from '../../appliance/src/db/knex.ts';
import { keptStatements, keptStatementsOf, withLimitsWritten } from '../../appliance/src/db/sqlite-client.ts';
import { sqliteDatabase, withDatabase } from '../helpers/databases.ts';

/** How often the database's one connection reused a kept statement and prepared one. */
async function statsOf(db: ReturnType<typeof createDb>) {
  const client = clientOf(db);
  const connection = await client.acquireConnection();
  try {
    const kept = keptStatementsOf(connection as object);
    if (!kept) throw new Error('the connection has kept no statements: is the keeping dialect in use?');
    return { reused: kept.reused, prepared: kept.prepared, size: kept.bySql.size };
  } finally {
    await client.releaseConnection(connection);
  }
}

test('the same query runs again on its kept statement, with each call its own bindings and answer', async (t) => {
  await withDatabase(sqliteDatabase(), async (db) => {
    await db.schema.createTable('notes', (table) => {
      table.increments('id');
      table.string('text');
    });
    const ids: number[] = [];
    for (const text of ['första', 'andra', 'tredje']) {
      const [row] = await db('notes').insert({ text }).returning('id');
      ids.push(Number((row as { id: number }).id));
    }
    t.deepEqual(ids, [1, 2, 3], 'each insert reports its own new id');
    const before = await statsOf(db);
    const texts = [];
    for (const id of ids) texts.push((await db('notes').where({ id }).first('text'))?.text);
    t.deepEqual(texts, ['första', 'andra', 'tredje']);
    const stats = await statsOf(db);
    t.is(stats.prepared - before.prepared, 1, 'the select was prepared once');
    t.is(stats.reused - before.reused, 2, 'and run twice more on the kept statement');

    const updated = await db('notes').where({ id: 2 }).update({ text: 'ändrad' });
    t.is(updated, 1, 'a write reports the rows it changed');
    t.is((await db('notes').where({ id: 2 }).first('text'))?.text, 'ändrad');

    await db.transaction(async (trx) => {
      await trx('notes').insert({ text: 'i en transaktion' });
      await trx('notes').insert({ text: 'också' });
    });
    await t.throwsAsync(
      db.transaction(async (trx) => {
        await trx('notes').insert({ text: 'ångras' });
        throw new Error('nej');
      }),
      { message: 'nej' },
    );
    t.deepEqual(
      (await db('notes').orderBy('id').select('text')).map((r: { text: string }) => r.text),
      ['första', 'ändrad', 'tredje', 'i en transaktion', 'också'],
      'kept BEGIN, COMMIT and ROLLBACK statements commit and roll back as before',
    );
  });
});

test('a kept statement sees a column a migration added', async (t) => {
  await withDatabase(sqliteDatabase(), async (db) => {
    await db.schema.createTable('units', (table) => {
      table.increments('id');
      table.string('name');
    });
    await db('units').insert({ name: 'Barnmottagningen' });
    const all = () => db('units').select('*');
    t.deepEqual(await all(), [{ id: 1, name: 'Barnmottagningen' }]);
    await db.schema.alterTable('units', (table) => table.string('phone').defaultTo('010-123 45 67'));
    t.deepEqual(await all(), [{ id: 1, name: 'Barnmottagningen', phone: '010-123 45 67' }]);
  });
});

test('no more statements are kept than the bound: the least recently used are let go', async (t) => {
  await withDatabase(sqliteDatabase(), async (db) => {
    // A list of another length is another SQL text: more texts than are kept.
    const listOf = (n: number) => db.raw(`select ${Array.from({ length: n }, () => '?').join(', ')}`, Array(n).fill(1));
    for (let n = 1; n <= keptStatements + 50; n += 1) await listOf(n);
    const first = await statsOf(db);
    t.is(first.size, keptStatements, 'as many are kept as the bound');
    // The most recent text is still kept; the first one was let go and is prepared again.
    await listOf(keptStatements + 50);
    t.is((await statsOf(db)).reused - first.reused, 1, 'the most recent text is kept');
    await listOf(1);
    t.is((await statsOf(db)).prepared - first.prepared, 1, 'the oldest text was let go and is prepared again');
  });
});

test('LIMIT and OFFSET values are written into the kept statement (SQLite prepares one with a bound limit again on every run); the answers are the same', async (t) => {
  await withDatabase(sqliteDatabase(), async (db) => {
    await db.schema.createTable('notes', (table) => {
      table.increments('id');
      table.string('text');
    });
    for (const text of ['a', 'b', 'c', 'd', 'e']) await db('notes').insert({ text });
    const before = await statsOf(db);
    for (const id of [1, 2, 3]) t.is((await db('notes').where({ id }).first('text'))?.text, 'abc'[id - 1]);
    const page = (limit: number, offset: number) =>
      db('notes').orderBy('id').limit(limit).offset(offset).pluck('text') as Promise<string[]>;
    t.deepEqual(await page(2, 1), ['b', 'c']);
    t.deepEqual(await page(2, 3), ['d', 'e']);
    t.deepEqual(await page(3, 0), ['a', 'b', 'c']);
    // A limit inside a subquery, with bindings before and after it.
    const marked = await db('notes')
      .whereIn('id', db('notes').select('id').where('text', '>', 'a').orderBy('id').limit(2))
      .andWhere('text', '<>', 'c')
      .update({ text: 'x' });
    t.is(marked, 1, 'of b and c, the first two after a, only b is not c');
    t.deepEqual(await db('notes').orderBy('id').pluck('text'), ['a', 'x', 'c', 'd', 'e']);
    const stats = await statsOf(db);
    t.is(
      stats.prepared - before.prepared,
      6,
      'first(), a page at each offset (written in), one of 3 from the start, the update, the list after it',
    );
    const client = clientOf(db);
    const connection = await client.acquireConnection();
    try {
      const texts = [...(keptStatementsOf(connection as object)?.bySql.keys() ?? [])];
      t.true(
        texts.some((sql) => / limit 1$/.test(sql)),
        texts.join('\n'),
      );
      t.true(
        texts.some((sql) => / limit 2 offset 3$/.test(sql)),
        texts.join('\n'),
      );
      t.false(
        texts.some((sql) => /(limit|offset) \?/.test(sql)),
        texts.join('\n'),
      );
    } finally {
      await client.releaseConnection(connection);
    }
  });
});

test('only integer limits outside quotes are written in', (t) => {
  t.deepEqual(withLimitsWritten('select * from t where a = ? limit ?', ['x', 1]), {
    sql: 'select * from t where a = ? limit 1',
    bindings: ['x'],
  });
  t.deepEqual(withLimitsWritten("select 'limit ?' as s, ? as v limit ? offset ?", [7, 10, 20]), {
    sql: "select 'limit ?' as s, ? as v limit 10 offset 20",
    bindings: [7],
  });
  t.deepEqual(withLimitsWritten('select * from `limit` where `offset` = ? limit ?', [3, 4]), {
    sql: 'select * from `limit` where `offset` = ? limit 4',
    bindings: [3],
  });
  for (const odd of [1.5, -1, '1; drop table t', null])
    t.deepEqual(withLimitsWritten('select * from t limit ?', [odd]), {
      sql: 'select * from t limit ?',
      bindings: [odd],
    });
});
