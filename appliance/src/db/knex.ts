// One place turns DATABASE_URL into a knex instance: SQLite (better-sqlite3) by default, PostgreSQL by URL.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import knex, { type Knex } from 'knex';
import { migrationSource } from './migrations.ts';

export type Db = Knex;

export function isSqlite(db: Knex): boolean {
  return db.client.config.client === 'better-sqlite3';
}

/** Rows of a raw statement with RETURNING: better-sqlite3 gives the array, pg a result object. */
export function rowsOf<Row = Record<string, unknown>>(result: unknown): Row[] {
  return Array.isArray(result) ? (result as Row[]) : (result as { rows: Row[] }).rows;
}

/** A placeholder for a timestamp in raw SQL: PostgreSQL must be told the ISO string's type. */
export const timestampParam = (db: Knex): string => (isSqlite(db) ? '?' : 'cast(? as timestamptz)');

export function createDb(databaseUrl: string): Knex {
  if (databaseUrl.startsWith('sqlite:')) {
    const filename = databaseUrl.slice('sqlite:'.length);
    const inMemory = filename === ':memory:';
    if (!inMemory) mkdirSync(dirname(resolve(filename)), { recursive: true });
    return knex({
      client: 'better-sqlite3',
      connection: { filename },
      useNullAsDefault: true,
      // better-sqlite3 is synchronous: one connection serialises writes without SQLITE_BUSY churn.
      pool: {
        min: 1,
        max: 1,
        afterCreate(conn: { pragma(sql: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
          // WAL for concurrent readers; synchronous=FULL because the outbox must survive power loss.
          if (!inMemory) conn.pragma('journal_mode = WAL');
          conn.pragma('synchronous = FULL');
          conn.pragma('busy_timeout = 5000');
          conn.pragma('foreign_keys = ON');
          done(null, conn);
        },
      },
      migrations: { migrationSource, tableName: 'knex_migrations' },
    });
  }
  return knex({
    client: 'pg',
    connection: { connectionString: databaseUrl, connectionTimeoutMillis: 5000 },
    pool: { min: 0, max: 10 },
    migrations: { migrationSource, tableName: 'knex_migrations' },
  });
}

/** A sentence a person can act on when the database cannot be reached or opened. */
export function describeDbError(databaseUrl: string, error: unknown): string {
  const err = error as NodeJS.ErrnoException;
  const where = databaseUrl.startsWith('sqlite:') ? databaseUrl : databaseUrl.replace(/\/\/[^@/]*@/, '//***@');
  return `DATABASE_URL: cannot open ${where}: ${err.code ? `${err.code} ` : ''}${err.message}`;
}
