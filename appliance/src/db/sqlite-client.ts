// knex's better-sqlite3 dialect, with two changes for the appliance's data path (ARCHITECTURE.md).
//
// Kept statements. knex's dialect prepares every statement anew: SQLite parses and plans the same SQL
// for every request (a profile of the calendar page put 9 % of the process's time in `prepare`, of
// a booking 15 %). This dialect keeps each connection's prepared statements by their SQL text and
// runs them again with new bindings, the way better-sqlite3 is meant to be used. Everything else is
// knex's own dialect. SQLite re-plans a kept statement by itself when the schema changes (a
// migration), so a kept statement never runs against a stale table.
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
    const statement = statementFor(connection, obj.sql);
    const bindings = this._formatBindings(obj.bindings);
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
