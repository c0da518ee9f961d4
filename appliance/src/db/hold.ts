// One appliance process per SQLite file. On SQLite the process that runs is the only sender and
// the only leader: at start it gives back every outbox row left "sending" (invites/index.ts) and it
// leads room control and the periodic jobs (leader.ts). A second process on the same file - a
// second systemd unit, a test instance pointed at the production DATA_DIR, an old process still
// stopping - would send the first one's messages again and lead beside it. So before the database
// is touched the process takes a hold on the file for its whole life, and a second one refuses to
// start (README, "One process per SQLite file"; PostgreSQL is the setup for several).
//
// The hold is SQLite's own write lock on a small database beside the file (`<file>-lock`): the
// holder keeps a write transaction open on it (BEGIN IMMEDIATE, a RESERVED lock; nothing written),
// so another process's BEGIN IMMEDIATE fails at once with SQLITE_BUSY while it can still read who
// holds it. SQLite's locks are the operating system's advisory locks on the open file: they end
// with the process however it ends (a stop, SIGKILL, a power loss), so there is never a stale lock
// for a person to clear, and the file left behind holds nothing. POSIX locks belong to the process
// and go when it closes any descriptor of the file: only SQLite, which keeps its own connections
// apart, may open the lock file in this process.
//
// Not a lock on the database file itself: SQLite's exclusive locking mode there would also shut out
// `samverka backup` (online, while the appliance runs), the command line's other commands and the
// WAL's readers in other processes.
import { realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { clientOf, type Db } from './knex.ts';

/** Who holds a database, as the holder wrote it down when it took the hold. */
export interface Holder {
  pid: number;
  host: string;
  /** When it took the hold (ISO 8601). */
  since: string;
}

/** Another process holds the database: the message names the file and, when it could be read, the holder. */
export class DatabaseInUseError extends Error {
  constructor(
    readonly file: string,
    readonly holder: Holder | undefined,
  ) {
    const who = holder
      ? `process ${holder.pid} on host ${holder.host}, holding it since ${holder.since}`
      : 'which one could not be read';
    super(
      `DATABASE_URL: ${file} is in use by another Samverka process (${who}). ` +
        'A SQLite database serves one appliance process: stop that one before starting this one, ' +
        'or use PostgreSQL to run several (README, "Several processes"). Nothing was changed.',
    );
    this.name = 'DatabaseInUseError';
  }
}

export interface DatabaseHold {
  /** The database file held (its real path). */
  readonly file: string;
  /** Lets go of the file (the server stopped); a process that ends without it lets go too. */
  release(): void;
}

/** The part of better-sqlite3's Database this uses. */
interface Connection {
  exec(sql: string): unknown;
  prepare(sql: string): { get(...params: unknown[]): unknown; run(...params: unknown[]): unknown };
  pragma(sql: string): unknown;
  close(): void;
}
type Driver = new (file: string, options: { timeout: number }) => Connection;

/**
 * Takes the hold on the SQLite database of `db`, or throws DatabaseInUseError if another process
 * (or another server in this process) has it. Nothing for an in-memory database, which no other
 * process can open, nor for PostgreSQL (several processes, one leader: leader.ts).
 */
export function holdDatabase(db: Db): DatabaseHold | undefined {
  const client = clientOf(db);
  if (client.dialect !== 'sqlite3') return undefined;
  const { filename } = client.config.connection as { filename: string };
  if (filename === ':memory:') return undefined;
  return holdFile(realFile(filename), client.driver as Driver);
}

/**
 * The database's own path with links resolved, so that the lock sits beside the real file whichever
 * name a process uses (a symlinked DATA_DIR). The folder exists (createDb made it); the file may not yet.
 */
function realFile(filename: string): string {
  const file = resolve(filename);
  try {
    return realpathSync(file);
  } catch {
    return join(realpathSync(dirname(file)), basename(file));
  }
}

/** The lock file beside a database file. */
export const lockFileOf = (file: string): string => `${file}-lock`;

function holdFile(file: string, Driver: Driver): DatabaseHold {
  const lockFile = lockFileOf(file);
  let connection: Connection;
  try {
    // No busy wait: a held lock means another process runs, not one about to finish a write.
    connection = new Driver(lockFile, { timeout: 0 });
  } catch (error) {
    throw cannotOpen(lockFile, error);
  }
  const me = { pid: process.pid, host: hostname(), since: new Date().toISOString(), token: randomUUID() };
  try {
    // The holder's row is committed before the hold is kept, so a refused process can read it; a
    // start that slips in between commits is seen on the next turn and the lock decides. A few
    // turns suffice: only processes starting at the same moment can meet there.
    for (let turn = 0; turn < 5; turn++) {
      if (!begin(connection)) throw new DatabaseInUseError(file, readHolder(connection));
      connection.exec('create table if not exists holder (pid integer, host text, since text, token text)');
      const current = connection.prepare('select token from holder').get() as { token: string } | undefined;
      // Ours, and the write lock taken: keep the transaction open for as long as the process runs.
      if (current?.token === me.token) return { file, release: () => connection.close() };
      connection.exec('delete from holder');
      connection
        .prepare('insert into holder (pid, host, since, token) values (?, ?, ?, ?)')
        .run(me.pid, me.host, me.since, me.token);
      connection.exec('commit');
    }
    throw new DatabaseInUseError(file, readHolder(connection));
  } catch (error) {
    connection.close();
    throw error instanceof DatabaseInUseError ? error : cannotOpen(lockFile, error);
  }
}

/** The driver's error, saying that it was the lock file (its code kept for describeDbError). */
function cannotOpen(lockFile: string, error: unknown): Error {
  const err = error as { code?: string; message?: string };
  return Object.assign(new Error(`its lock file ${lockFile}: ${err.message ?? String(error)}`), { code: err.code });
}

/** BEGIN IMMEDIATE: true once this connection has the write lock, false if another holds it. */
function begin(connection: Connection): boolean {
  try {
    connection.exec('begin immediate');
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_BUSY') return false;
    throw error;
  }
}

function readHolder(connection: Connection): Holder | undefined {
  try {
    // The holder keeps only the write lock: reading waits for nothing but a holder's own short commit.
    connection.pragma('busy_timeout = 1000');
    const row = connection.prepare('select pid, host, since from holder').get() as Holder | undefined;
    return row ? { pid: Number(row.pid), host: row.host, since: row.since } : undefined;
  } catch {
    // No holder table yet (a holder that is just starting), or unreadable: the refusal says so.
    return undefined;
  }
}
