// One place turns DATABASE_URL into a knex instance: SQLite (better-sqlite3) by default, PostgreSQL by URL.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import knex, { type Knex } from 'knex';
import { migrationSource } from './migrations.ts';
import { SqliteClient, syncOffTheLoop, type SqliteConnection } from './sqlite-client.ts';

export type Db = Knex;

/**
 * The part of knex's client this code uses. knex types `db.client` as `any`; this view says what
 * we rely on: its configuration, and a pooled connection of the driver's own (locks.ts, backup.ts).
 */
export interface KnexClient {
  config: Knex.Config;
  /** knex's name of the SQL dialect: 'sqlite3' or 'postgresql'. */
  dialect: string;
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<void>;
  driver: unknown;
}

export const clientOf = (db: Knex): KnexClient => db.client as KnexClient;

export function isSqlite(db: Knex): boolean {
  return clientOf(db).dialect === 'sqlite3';
}

/** Rows of a raw statement (a select, or RETURNING): better-sqlite3 gives the array, pg a result object. */
export function rowsOf<Row = Record<string, unknown>>(result: unknown): Row[] {
  return Array.isArray(result) ? (result as Row[]) : (result as { rows: Row[] }).rows;
}

/**
 * Runs a raw statement that returns rows and gives them typed, whichever the driver. knex types
 * raw()'s result `any`: `Row` says what the statement's columns are, as the drivers return them
 * (db/values.ts).
 */
export async function rawRows<Row>(db: Knex, sql: string, bindings: readonly Knex.RawBinding[] = []): Promise<Row[]> {
  return rowsOf<Row>(await db.raw<unknown>(sql, bindings));
}

/** A placeholder for a timestamp in raw SQL: PostgreSQL must be told the ISO string's type. */
export const timestampParam = (db: Knex): string => (isSqlite(db) ? '?' : 'cast(? as timestamptz)');

export function createDb(databaseUrl: string): Knex {
  if (databaseUrl.startsWith('sqlite:')) {
    const filename = databaseUrl.slice('sqlite:'.length);
    const inMemory = filename === ':memory:';
    if (!inMemory) mkdirSync(dirname(resolve(filename)), { recursive: true });
    return knex({
      // knex's better-sqlite3 dialect, keeping its prepared statements (sqlite-client.ts).
      client: SqliteClient,
      connection: { filename },
      useNullAsDefault: true,
      // better-sqlite3 is synchronous: one connection serialises writes without SQLITE_BUSY churn.
      pool: {
        min: 1,
        max: 1,
        afterCreate(conn: SqliteConnection, done: (err: Error | null, conn: unknown) => void) {
          // WAL for concurrent readers. Every commit durable before it resolves, as the outbox must
          // survive power loss: as under synchronous=FULL, with the fsync made off the event loop
          // (sqlite-client.ts, `syncOffTheLoop`).
          if (inMemory) conn.pragma('synchronous = FULL');
          else {
            conn.pragma('journal_mode = WAL');
            syncOffTheLoop(conn);
          }
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
    connection: { connectionString: databaseUrl, connectionTimeoutMillis: connectTimeoutMs },
    // A request waits at most this long for a connection, then answers 503 (http/errors.ts).
    acquireConnectionTimeout: acquireTimeoutMs,
    pool: {
      // Two kept open: after a quiet spell the first requests need not open connections first.
      min: 2,
      max: poolSize,
      // A connection that could not be opened in time (a loaded server is slow to fork and
      // authenticate) is tried again until the request's wait is over, rather than failing the
      // request that happened to ask first.
      propagateCreateError: false,
    },
    migrations: { migrationSource, tableName: 'knex_migrations' },
  });
}

/**
 * Connections each appliance process uses on PostgreSQL: the pool, plus two of its own outside it
 * (LISTEN for the other processes' events, db/notify.ts; the leader's advisory lock, db/leader.ts).
 * PostgreSQL's max_connections must exceed processes × this (README, "Several processes").
 */
export const poolSize = 10;
export const connectionsPerProcess = poolSize + 2;
const connectTimeoutMs = 5_000;
const acquireTimeoutMs = 10_000;

const unavailableCodes = new Set([
  // The server cannot be reached, or dropped the connection.
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  // PostgreSQL: too many connections, shutting down, starting up, connection exceptions (class 08).
  '53300',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  // SQLite: another writer held the file beyond the busy timeout.
  'SQLITE_BUSY',
]);

/**
 * Whether a request failed because the database could not be had just now - no connection within
 * the wait, the server unreachable, restarting or full - rather than because of the request: such
 * a request is answered 503 and may simply be tried again.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const err = error as { name?: string; code?: string; message?: string } | undefined;
  if (!err || typeof err !== 'object') return false;
  if (err.name === 'KnexTimeoutError') return true;
  if (err.code && unavailableCodes.has(err.code)) return true;
  // "... is not currently accepting connections": the database closed to new connections while it
  // is restored or maintained (ALTER DATABASE ... ALLOW_CONNECTIONS false), a class 55 code that
  // otherwise means other things.
  return /^timeout expired$|^Connection terminated|is not queryable$|is not currently accepting connections$/.test(
    err.message ?? '',
  );
}

/**
 * A PostgreSQL URL with its user and password replaced by ***, read as pg reads it: the last "@"
 * ends them, so a password with an "@" is hidden whole (a pattern up to the first "@" showed its rest).
 */
function withoutCredentials(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (!url.username && !url.password) return databaseUrl;
    url.username = '';
    url.password = '';
    return url.toString().replace('//', '//***@');
  } catch {
    return '(a URL that cannot be read)';
  }
}

/** A sentence a person can act on when the database cannot be reached or opened. */
export function describeDbError(databaseUrl: string, error: unknown): string {
  const err = error as NodeJS.ErrnoException;
  const where = databaseUrl.startsWith('sqlite:') ? databaseUrl : withoutCredentials(databaseUrl);
  return `DATABASE_URL: cannot open ${where}: ${err.code ? `${err.code} ` : ''}${err.message}`;
}
