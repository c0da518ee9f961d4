// Databases for tests. The suite runs in passes (test/passes.js): TEST_DB=sqlite gives every test a
// fresh SQLite file, TEST_DB=postgres a fresh database on the server at TEST_DATABASE_URL (.ci/run
// starts Debian's cluster and sets it). Without TEST_DB a test run on its own uses SQLite, and the
// suites written for both engines run on PostgreSQL too when TEST_DATABASE_URL is set.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knex, { type Knex } from 'knex';
import { createDb, type Db } from '../../appliance/src/db/knex.ts';
import { present } from './present.ts';

/** How many rows a query finds, e.g. `await countRows(db('meetings').where({ unit_id }))`. */
export async function countRows(query: Knex.QueryBuilder): Promise<number> {
  const [row] = await query.count({ n: '*' });
  return Number(present(row, 'a row with the count').n);
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
