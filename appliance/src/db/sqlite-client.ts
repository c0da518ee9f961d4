// knex's better-sqlite3 dialect, with two changes for the appliance's data path (ARCHITECTURE.md).
//
// Kept statements. knex's dialect prepares every statement anew: SQLite parses and plans the same SQL
// for every request (a profile of the calendar page put 9 % of the process's time in `prepare`, of
// a booking 15 %). This dialect keeps each connection's prepared statements by their SQL text and
// runs them again with new bindings, the way better-sqlite3 is meant to be used. Everything else is
// knex's own dialect. SQLite re-plans a kept statement by itself when the schema changes (a
// migration), so a kept statement never runs against a stale table.
//
// Limits written out. SQLite plans with the value bound to a LIMIT or OFFSET, and a statement planned
// with a bound value is prepared again whenever that value is bound: knex binds every `.first()`'s
// `limit 1`, so each such query paid a fresh prepare (a session's look-up 25 µs where it needs 6).
// The dialect writes integer limits and offsets into the SQL text instead; each value is a text of
// its own, kept like any other.
//
// Shared commits. Once the appliance runs (`shareCommits`), a top-level `db.transaction(change)`
// is handed to the group commit (group-commit.ts): it runs in a savepoint of a transaction shared
// with the other changes and records waiting then, and resolves once that has committed. Callers
// keep knex's meaning: the change is atomic, durable when the promise resolves, and rejected
// with nothing written when it throws. Migrations and the command line run before, on knex's own.
//
// Syncs off the event loop. SQLite's synchronous=FULL makes every commit durable by an fsync of the
// write-ahead log inside the COMMIT, and better-sqlite3 runs it on the event loop: while the disk
// syncs (0.1 to 5 ms here, more on a busy virtual disk) nothing else runs - no request, no SMPP
// answer, no other statement. A connection in WAL mode therefore runs with synchronous=NORMAL,
// which is FULL without that one fsync (SQLite still syncs the log before each checkpoint, the
// database after it, and the log's header when it starts over), and the dialect makes the fsync
// itself, as an fdatasync of the log file on libuv's thread pool (`WalSync`): a write outside a
// transaction, or a transaction's COMMIT, resolves only once it is synced, as under FULL. The
// group commit's COMMIT alone resolves at once, so that the connection is free for the next batch
// while the disk syncs; the group commit answers that batch's callers once its sync is done
// (`durableWhen`). Syncs are shared: one runs at a time, and every commit made before a sync began is
// durable when it ends. A read may see a commit a few milliseconds before it is durable; any answer
// that also writes (every audited page does) waits for a sync that covers it. A sync that fails
// fails every caller waiting for it and every later one (the disk's state is then unknown, as
// PostgreSQL judges it): the process must be restarted, and SQLite recovers from the log.
import { open, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Knex } from 'knex';
import Client_BetterSQLite3, { type KnexQuery } from 'knex/lib/dialects/better-sqlite3/index.js';
import { syncDirectoryOf } from './directory.ts';

/** The part of better-sqlite3's Database and Statement this dialect uses. */
interface Statement {
  /** Whether it returns rows (a SELECT, or a write with RETURNING). */
  readonly reader: boolean;
  /** Whether it leaves the database as it was. */
  readonly readonly: boolean;
  all(bindings: unknown[]): unknown[];
  run(bindings: unknown[]): { lastInsertRowid: number | bigint; changes: number };
}
interface Connection {
  prepare(sql: string): Statement;
  /** Whether a transaction is open: false after a COMMIT, and after a write outside any. */
  readonly inTransaction: boolean;
  /** The file the connection opened, as given. */
  readonly name: string;
  /** knex's mark: the transaction that last took the connection. */
  __knexTxId?: string;
}
/** A connection as it is set up (db/knex.ts). */
export interface SqliteConnection extends Connection {
  pragma(sql: string, options?: { simple: true }): unknown;
}

/**
 * Statements kept per connection. The SQL a running appliance issues is a few hundred texts; a
 * `whereIn` over a list of another length is a new text, so the least recently used go beyond this.
 */
export const keptStatements = 500;

export interface KeptStatements {
  /** By SQL text, the most recently used last. */
  readonly bySql: Map<string, Statement>;
  /** How often a statement was found kept, and how often one had to be prepared. */
  reused: number;
  prepared: number;
}

// By connection, not in a field of the client: knex runs a transaction's statements through another
// object of this class that it makes without the constructor.
const keptByConnection = new WeakMap<object, KeptStatements>();

/** A connection's kept statements (for tests and benchmarks). */
export function keptStatementsOf(connection: object): KeptStatements | undefined {
  return keptByConnection.get(connection);
}

/** knex names each savepoint after its transaction: a text that never comes again, not worth keeping. */
const oneOff = /^(savepoint|release|rollback to) /i;

function statementFor(connection: Connection, sql: string): Statement {
  if (oneOff.test(sql)) return connection.prepare(sql);
  let kept = keptByConnection.get(connection);
  if (!kept) keptByConnection.set(connection, (kept = { bySql: new Map(), reused: 0, prepared: 0 }));
  const found = kept.bySql.get(sql);
  if (found) {
    // Most recently used last: the Map's order is the eviction order.
    kept.bySql.delete(sql);
    kept.bySql.set(sql, found);
    kept.reused += 1;
    return found;
  }
  const statement = connection.prepare(sql);
  kept.prepared += 1;
  kept.bySql.set(sql, statement);
  if (kept.bySql.size > keptStatements) {
    const oldest = kept.bySql.keys().next();
    if (!oldest.done) kept.bySql.delete(oldest.value);
  }
  return statement;
}

/** A `?` of a LIMIT or OFFSET: where it stands in the SQL text, and which binding it takes. */
interface LimitPlaceholder {
  at: number;
  binding: number;
}

/** By SQL text, the LIMIT and OFFSET placeholders in it (none for most). */
const limitsBySql = new Map<string, LimitPlaceholder[]>();
/** SQL texts analysed and remembered; beyond, the memory starts afresh (a `whereIn` makes new texts). */
const limitTextsKept = 2000;

/** The `?` placeholders that follow LIMIT or OFFSET, outside quoted strings and names. */
function limitPlaceholders(sql: string): LimitPlaceholder[] {
  let found = limitsBySql.get(sql);
  if (found) return found;
  found = [];
  let binding = 0;
  let quote: string | undefined;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '?') {
      if (/\b(limit|offset)\s+$/i.test(sql.slice(Math.max(0, i - 12), i))) found.push({ at: i, binding });
      binding += 1;
    }
  }
  if (limitsBySql.size >= limitTextsKept) limitsBySql.clear();
  limitsBySql.set(sql, found);
  return found;
}

/** The statement with its integer LIMIT and OFFSET values written in, and the other bindings. */
export function withLimitsWritten(sql: string, bindings: unknown[]): { sql: string; bindings: unknown[] } {
  const places = limitPlaceholders(sql);
  if (places.length === 0) return { sql, bindings };
  const values = places.map((p) => bindings[p.binding]);
  if (
    !values.every(
      (v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) || (typeof v === 'bigint' && v >= 0n),
    )
  )
    return { sql, bindings };
  let text = '';
  let from = 0;
  places.forEach((p, i) => {
    text += sql.slice(from, p.at) + String(values[i]);
    from = p.at + 1;
  });
  const written = new Set(places.map((p) => p.binding));
  return { sql: text + sql.slice(from), bindings: bindings.filter((_, i) => !written.has(i)) };
}

/**
 * The fsync of one database's write-ahead log, made on libuv's thread pool. One runs at a time:
 * whoever asks while one runs waits for the next, which covers their commit, and everyone who
 * asked meanwhile shares it.
 */
export class WalSync {
  readonly #log: string;
  #file: Promise<FileHandle> | undefined;
  #running: Promise<void> | undefined;
  #next: Promise<void> | undefined;
  #broken: Error | undefined;

  constructor(database: string) {
    this.#log = `${database}-wal`;
  }

  /** Why the log could not be synced, once that has happened: nothing is durable since. */
  get failure(): Error | undefined {
    return this.#broken;
  }

  /** Resolves once everything committed before the call is on disk. */
  sync(): Promise<void> {
    if (this.#broken) return Promise.reject(this.#broken);
    if (!this.#running) {
      this.#running = this.#syncOnce().finally(() => (this.#running = undefined));
      return this.#running;
    }
    // The sync under way may have begun before this caller's commit: the next one covers it.
    this.#next ??= this.#running
      .catch(() => undefined)
      .then(() => {
        this.#next = undefined;
        return this.sync();
      });
    return this.#next;
  }

  async #syncOnce(): Promise<void> {
    try {
      const log = await this.#opened();
      // No log yet: nothing has been written since the database was opened, so nothing waits.
      if (log) await log.datasync();
    } catch (error) {
      // After a failed fsync the kernel may have dropped the pages it could not write and report
      // the next fsync as a success: nothing written since can be called durable.
      this.#broken ??= new Error(
        `the database's log (${this.#log}) could not be synced to disk, so nothing written since is known to be safe; restart the appliance: ${(error as Error).message}`,
      );
      throw this.#broken;
    }
  }

  /**
   * The log file, opened once it exists. SQLite makes it with the first write and keeps it
   * (truncating it at most) until the last connection closes; its directory entry is synced once,
   * as SQLite syncs the directory of a file it created.
   */
  async #opened(): Promise<FileHandle | undefined> {
    this.#file ??= (async () => {
      const log = await open(this.#log, 'r');
      await syncDirectoryOf(this.#log);
      return log;
    })();
    try {
      return await this.#file;
    } catch (error) {
      this.#file = undefined;
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Closes the log file (the connection is closing). */
  async close(): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    await file?.then((handle) => handle.close()).catch(() => undefined);
  }
}

/** By connection, the sync of its log: only connections in WAL mode have one (`syncOffTheLoop`). */
const walSyncs = new WeakMap<object, WalSync>();

/**
 * Makes a connection's commits durable off the event loop (above): synchronous=NORMAL, with this
 * dialect syncing the log. Left at synchronous=FULL where SQLite could not use WAL mode.
 */
export function syncOffTheLoop(connection: SqliteConnection): void {
  if (connection.pragma('journal_mode', { simple: true }) !== 'wal') {
    connection.pragma('synchronous = FULL');
    return;
  }
  connection.pragma('synchronous = NORMAL');
  walSyncs.set(connection, new WalSync(resolve(connection.name)));
}

/** The log sync of a connection in WAL mode (for closing it, and for tests). */
export function walSyncOf(connection: object): WalSync | undefined {
  return walSyncs.get(connection);
}

/**
 * In the group commit's transaction config, beside `batchTransaction`: where the dialect leaves the
 * promise of the COMMIT's sync, which the COMMIT itself does not wait for. Left empty where nothing
 * is left to wait for (PostgreSQL, a connection SQLite syncs itself). An object, since knex copies
 * the config it is given.
 */
export const durableWhen: unique symbol = Symbol('durable when');
export interface DurableWhen {
  synced?: Promise<void>;
}

/** The group commit's transactions by knex's id, until their BEGIN. */
const deferredByTxid = new Map<string, DurableWhen>();
/** The group commit's transaction open on a connection, from its BEGIN to its COMMIT or ROLLBACK. */
const deferredByConnection = new WeakMap<object, DurableWhen>();

/** Where top-level transactions go once shared (the db plugin's GroupCommit). */
export interface SharedCommits {
  change<T>(change: (trx: Knex.Transaction) => Promise<T>): Promise<T>;
}

/** In a transaction's config: the group commit's own transaction, which the changes share. */
export const batchTransaction: unique symbol = Symbol('a group commit batch');

const sharedByConfig = new WeakMap<object, SharedCommits>();

/** From now on the top-level transactions of `client` share commits through `shared`. */
export function shareCommits(client: { config: object }, shared: SharedCommits): void {
  sharedByConfig.set(client.config, shared);
}

/**
 * After each statement: a COMMIT, or a write outside any transaction, is made durable before it
 * resolves, as synchronous=FULL would have made it inside the statement; the group commit's COMMIT
 * leaves its sync to the group commit (`durableWhen`). `outside` is what the statement did, if no
 * transaction is open after it: ended the one open before it, wrote on its own, or only read.
 * (A function of the module, not a method: knex runs a transaction's statements on an object of
 * this class made without the constructor.)
 */
function afterStatement(
  connection: Connection,
  sql: string,
  outside: 'ended' | 'wrote' | 'read',
): Promise<void> | undefined {
  if (connection.inTransaction) {
    // knex tags the connection with the transaction that took it, and each savepoint tags it
    // again: the group commit's transaction is told by its BEGIN.
    if (!/^begin\b/i.test(sql)) return;
    deferredByConnection.delete(connection);
    const txid = connection.__knexTxId;
    const deferred = txid === undefined ? undefined : deferredByTxid.get(txid);
    if (deferred && txid !== undefined) {
      deferredByTxid.delete(txid);
      deferredByConnection.set(connection, deferred);
    }
    return;
  }
  const deferred = outside === 'ended' ? deferredByConnection.get(connection) : undefined;
  if (outside === 'ended') deferredByConnection.delete(connection);
  const sync = walSyncs.get(connection);
  if (!sync || outside === 'read' || /^\s*rollback\b/i.test(sql)) return;
  if (!deferred) return sync.sync();
  // The group commit's batch: the connection is free at once; the batch's callers wait.
  deferred.synced = sync.sync();
  deferred.synced.catch(() => undefined); // told to the batch's callers by the group commit
  return;
}

export class SqliteClient extends Client_BetterSQLite3 {
  override transaction(
    container: ((trx: Knex.Transaction) => Promise<unknown>) | undefined,
    config: (Knex.TransactionConfig & { [batchTransaction]?: true; [durableWhen]?: DurableWhen }) | undefined,
    outerTx: unknown,
  ): Knex.Transaction {
    const shared = sharedByConfig.get(this.config);
    // The batch's own transaction is knex's, its COMMIT not waiting for its sync (`afterStatement`).
    if (config?.[batchTransaction] && !outerTx) {
      const transaction = super.transaction(container, config, outerTx) as Knex.Transaction & { txid: string };
      const durable = config[durableWhen];
      if (durable) deferredByTxid.set(transaction.txid, durable);
      return transaction;
    }
    // A savepoint inside a transaction, and a transaction without a function (knex's transaction
    // provider), are knex's own too.
    if (!shared || outerTx || !container) return super.transaction(container, config, outerTx);
    // knex's types have a client return its Transaction object, but knex only hands it to the
    // caller of `db.transaction(change)`, whose promise of the change's result this is.
    return shared.change(container) as unknown as Knex.Transaction;
  }

  override async _query(connection: Connection, obj: KnexQuery): Promise<KnexQuery> {
    let wrote: boolean;
    const inTransaction = connection?.inTransaction ?? false;
    try {
      // A statement with its own integer mode is left to knex: a kept statement would keep that mode.
      if (!obj.sql || !connection || this._optSafeIntegers(obj.options) !== undefined) {
        await super._query(connection, obj);
        if (!connection) return obj;
        wrote = !['select', 'first', 'pluck'].includes(obj.method ?? '');
      } else {
        const { sql, bindings } = withLimitsWritten(obj.sql, this._formatBindings(obj.bindings));
        const statement = statementFor(connection, sql);
        // Not `reader`: an INSERT or UPDATE … RETURNING reads and writes. (A COMMIT is `readonly`:
        // what it writes is the transaction's.)
        wrote = !statement.readonly;
        if (statement.reader) obj.response = statement.all(bindings);
        else {
          const response = statement.run(bindings);
          obj.response = response;
          obj.context = { lastID: response.lastInsertRowid, changes: response.changes };
        }
      }
    } catch (error) {
      // A group commit's COMMIT that failed and left no transaction open: the next COMMIT is another's.
      if (connection && !connection.inTransaction) deferredByConnection.delete(connection);
      throw error;
    }
    // Nothing to wait for after most statements (every read): no await, no extra turn of the loop.
    const durable = afterStatement(connection, obj.sql, inTransaction ? 'ended' : wrote ? 'wrote' : 'read');
    if (durable) await durable;
    return obj;
  }

  override async destroyRawConnection(connection: Connection & { close(): void }): Promise<void> {
    await walSyncs.get(connection)?.close();
    return super.destroyRawConnection(connection);
  }
}
