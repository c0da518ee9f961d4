// Databases for tests. The suite runs in passes (test/passes.js): TEST_DB=sqlite gives every test a
// fresh SQLite file, TEST_DB=postgres a fresh database on the server at TEST_DATABASE_URL (.ci/run
// starts Debian's cluster and sets it). Without TEST_DB a test run on its own uses SQLite, and the
// suites written for both engines run on PostgreSQL too when TEST_DATABASE_URL is set.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knex, { type Knex } from 'knex';
import { createDb, isSqlite, rawRows, type Db } from '../../appliance/src/db/knex.ts';
import { present } from './present.ts';
import { until } from './wait.ts';

/** How many rows a query finds, e.g. `await countRows(db('meetings').where({ unit_id }))`. */
export async function countRows(query: Knex.QueryBuilder): Promise<number> {
  const [row] = await query.count({ n: '*' });
  return Number(present(row, 'a row with the count').n);
}

/**
 * Runs `requests` (started together) so that, on PostgreSQL, each has looked and found nothing
 * before any inserts into `table`: the table is held until `inserts` of them wait to insert, then
 * let go. The race of two requests that each check for a row, then add it. On SQLite, which runs
 * one write transaction at a time, they simply run. The caller's test must be serial: another
 * test's insert waiting beside them would be counted.
 */
export async function racingInserts<T>(db: Db, table: string, inserts: number, requests: () => Promise<T>): Promise<T> {
  if (isSqlite(db)) return requests();
  const hold = await db.transaction();
  await hold.raw(`lock table ${table} in share row exclusive mode`);
  const running = requests();
  try {
    await until(`${inserts} inserts into ${table} to wait`, async () => {
      const rows = await rawRows<{ n: string }>(
        db,
        `select count(*) as n from pg_stat_activity where wait_event_type = 'Lock' and query like ?`,
        [`insert into "${table}"%`],
      );
      return Number(rows[0]?.n) >= inserts;
    });
  } finally {
    await hold.commit();
  }
  return running;
}

export interface TestDatabase {
  kind: 'sqlite' | 'postgres';
  url: string;
  drop(): Promise<void>;
}

/** The engine of this pass: what TEST_DB asks for, SQLite when it is unset. */
export function passEngine(): 'sqlite' | 'postgres' {
  const engine = process.env.TEST_DB ?? 'sqlite';
  if (engine !== 'sqlite' && engine !== 'postgres')
    throw new Error(`TEST_DB must be sqlite or postgres, not ${engine}`);
  if (engine === 'postgres' && !process.env.TEST_DATABASE_URL)
    throw new Error('TEST_DB=postgres needs TEST_DATABASE_URL (postgres://user:password@host:port/postgres)');
  return engine;
}

export function sqliteDatabase(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'samverka-db-'));
  return {
    kind: 'sqlite',
    url: `sqlite:${join(dir, 'test.db')}`,
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

export async function postgresDatabase(adminUrl = process.env.TEST_DATABASE_URL): Promise<TestDatabase | undefined> {
  if (!adminUrl) return undefined;
  const name = `samverka_test_${randomBytes(6).toString('hex')}`;
  const admin = knex({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } });
  await admin.raw(`create database ${name}`);
  await admin.destroy();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    kind: 'postgres',
    url: url.toString(),
    async drop() {
      const a = knex({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } });
      await a.raw(`drop database if exists ${name} with (force)`);
      await a.destroy();
    },
  };
}

/** A fresh database on this pass's engine: what a test that starts the appliance gets. */
export async function testDatabase(): Promise<TestDatabase> {
  return passEngine() === 'postgres' ? (await postgresDatabase())! : sqliteDatabase();
}

/**
 * For the suites that must pass on both engines: in a pass, that pass's engine; run on its own,
 * SQLite plus PostgreSQL when TEST_DATABASE_URL is set.
 */
export async function everyDatabase(): Promise<TestDatabase[]> {
  if (process.env.TEST_DB) return [await testDatabase()];
  const pg = await postgresDatabase();
  return pg ? [sqliteDatabase(), pg] : [sqliteDatabase()];
}

/** Runs `run` on a knex of `database` (migrations not applied), then closes it and drops the database. */
export async function withDatabase<T>(
  database: TestDatabase | Promise<TestDatabase>,
  run: (db: Db) => Promise<T>,
): Promise<T> {
  const opened = await database;
  const db = createDb(opened.url);
  try {
    return await run(db);
  } finally {
    await db.destroy();
    await opened.drop();
  }
}

/** The PostgreSQL server process of a transaction's connection. */
export async function backendOf(trx: Knex.Transaction): Promise<number> {
  const rows: { pid: number }[] = (await trx.raw('select pg_backend_pid() as pid')).rows;
  return present(rows[0], 'the pid').pid;
}

/**
 * Whether a connection waits for a row the PostgreSQL server process `holder` holds (`backendOf`).
 * Asked on `db`'s own connection, never inside the holder's transaction: there PostgreSQL shows the
 * activity as it was at the transaction's first look (its statistics snapshot), and a request that
 * began waiting after that look would never be seen.
 */
export async function someoneWaitsFor(db: Db, holder: number): Promise<boolean> {
  const rows: { n: string | number }[] = (
    await db.raw(
      "select count(*) as n from pg_stat_activity where wait_event_type = 'Lock' and ? = any(pg_blocking_pids(pid))",
      [holder],
    )
  ).rows;
  return Number(present(rows[0], 'the count').n) > 0;
}
