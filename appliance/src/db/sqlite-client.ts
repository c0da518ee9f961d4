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
import type { Knex } from 'knex';
import Client_BetterSQLite3, { type KnexQuery } from 'knex/lib/dialects/better-sqlite3/index.js';

/** The part of better-sqlite3's Database and Statement this dialect uses. */
interface Statement {
  readonly reader: boolean;
  all(bindings: unknown[]): unknown[];
  run(bindings: unknown[]): { lastInsertRowid: number | bigint; changes: number };
}
interface Connection {
  prepare(sql: string): Statement;
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

export class SqliteClient extends Client_BetterSQLite3 {
  override transaction(
    container: ((trx: Knex.Transaction) => Promise<unknown>) | undefined,
    config: (Knex.TransactionConfig & { [batchTransaction]?: true }) | undefined,
    outerTx: unknown,
  ): Knex.Transaction {
    const shared = sharedByConfig.get(this.config);
    // A savepoint inside a transaction, the batch's own transaction, and a transaction without a
    // function (knex's transaction provider) are knex's own.
    if (!shared || outerTx || !container || config?.[batchTransaction])
      return super.transaction(container, config, outerTx);
    // knex's types have a client return its Transaction object, but knex only hands it to the
    // caller of `db.transaction(change)`, whose promise of the change's result this is.
    return shared.change(container) as unknown as Knex.Transaction;
  }

  override async _query(connection: Connection, obj: KnexQuery): Promise<KnexQuery> {
    // A statement with its own integer mode is left to knex: a kept statement would keep that mode.
    if (!obj.sql || !connection || this._optSafeIntegers(obj.options) !== undefined)
      return super._query(connection, obj);
    const { sql, bindings } = withLimitsWritten(obj.sql, this._formatBindings(obj.bindings));
    const statement = statementFor(connection, sql);
    if (statement.reader) {
      obj.response = statement.all(bindings);
      return obj;
    }
    const response = statement.run(bindings);
    obj.response = response;
    obj.context = { lastID: response.lastInsertRowid, changes: response.changes };
    return obj;
  }
}
