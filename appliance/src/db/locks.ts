// What several appliance processes on one PostgreSQL must do once: apply the migrations and create
// the first admin (the start lock), and lead room control and the periodic jobs (the leader lock,
// rooms and schedule). PostgreSQL's session advisory locks are held by a connection, so a process
// that dies - even by SIGKILL - lets go of them with its connection: no lock row is ever left
// behind for a person to clear. On SQLite (one process) the same calls simply run.
import type { Knex } from 'knex';
import { clientOf, isSqlite, type Db } from './knex.ts';
import { listMigrations } from './migrations.ts';

/** Advisory lock keys: (classid, objid) pairs in one namespace of our own ('SVKA'). */
export const lockNamespace = 0x53564b41;
const namespace = lockNamespace;
export const lockKeys = { start: 1, leader: 2 } as const;

interface PgConnection {
  query(sql: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/**
 * Runs `run` while holding the advisory lock `key` on a connection of its own, waiting for a
 * process that holds it. Another process that starts at the same moment waits here, then finds
 * the work done.
 */
export async function withLock<T>(db: Db, key: number, run: () => Promise<T>): Promise<T> {
  if (isSqlite(db)) return run();
  const client = clientOf(db);
  const connection = (await client.acquireConnection()) as PgConnection;
  try {
    await connection.query('select pg_advisory_lock($1, $2)', [namespace, key]);
    try {
      return await run();
    } finally {
      await connection.query('select pg_advisory_unlock($1, $2)', [namespace, key]);
    }
  } finally {
    await client.releaseConnection(connection);
  }
}

/**
 * Applies pending migrations, once, whichever process gets there first. knex's own lock is a row
 * in knex_migrations_lock: processes racing on an empty database can leave it taken (or doubled),
 * and then no process starts again. Under the advisory lock nobody else is migrating, so any
 * lock row left by a crashed or racing process is stale and is cleared first.
 */
export async function migrateLatest(db: Db): Promise<string[]> {
  if (!isSqlite(db)) {
    // The pool retries a connection it cannot open until a request's wait is over and then says
    // only "Timeout acquiring a connection"; at the start one connection of our own says why
    // (ECONNREFUSED, a wrong password, no such database) and the start stops with that.
    const probe = ownConnection(db);
    await probe.connect();
    await probe.end();
  }
  return withLock(db, lockKeys.start, async () => {
    // The everyday restart has nothing to apply: reading the history says so, where knex's own
    // latest() would still take and free its lock row (two commits, each waiting for the disk).
    const { pending } = await listMigrations(db);
    if (pending.length === 0) return [];
    if (!isSqlite(db)) await db.migrate.forceFreeMigrationsLock();
    const [, applied] = (await db.migrate.latest()) as [number, string[]];
    return applied;
  });
}

/** A PostgreSQL connection outside knex's pool, for a session that must last: LISTEN, the leader's lock. */
export interface OwnConnection {
  connect(): Promise<void>;
  query(sql: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  on(event: 'notification', listener: (n: { channel: string; payload?: string }) => void): void;
  on(event: 'error' | 'end', listener: (error?: Error) => void): void;
  end(): Promise<void>;
}

/** Opens one with the driver knex already loaded (pg), to the same database. */
export function ownConnection(db: Knex): OwnConnection {
  const client = clientOf(db);
  const { connectionString } = client.config.connection as { connectionString: string };
  const driver = client.driver as { Client: new (config: object) => OwnConnection };
  // Keep-alive: a peer that vanished without closing (a host powered off) is noticed.
  return new driver.Client({ connectionString, keepAlive: true, connectionTimeoutMillis: 5_000 });
}
