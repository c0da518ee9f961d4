// Databases for tests: a fresh SQLite file always, and a fresh PostgreSQL database when
// TEST_DATABASE_URL points at a server (.ci/run starts Debian's cluster and sets it).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knex from 'knex';

export interface TestDatabase {
  kind: 'sqlite' | 'postgres';
  url: string;
  drop(): Promise<void>;
}

export function sqliteDatabase(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'samverka-db-'));
  return { kind: 'sqlite', url: `sqlite:${join(dir, 'test.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
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

/** SQLite, plus PostgreSQL when TEST_DATABASE_URL is set: for the suites that must pass on both. */
export async function everyDatabase(): Promise<TestDatabase[]> {
  const pg = await postgresDatabase();
  return pg ? [sqliteDatabase(), pg] : [sqliteDatabase()];
}
