// Types for the part of knex's better-sqlite3 dialect (untyped JavaScript) that db/sqlite-client.ts extends.
declare module 'knex/lib/dialects/better-sqlite3/index.js' {
  import type { Knex } from 'knex';

  /** What knex hands its dialect for one statement: the SQL, its bindings, and where the result goes. */
  export interface KnexQuery {
    sql: string;
    bindings?: unknown[];
    options?: unknown;
    /** The query builder's method: select, first, pluck, insert, update, del, raw… */
    method?: string;
    response?: unknown;
    context?: { lastID: number | bigint; changes: number };
  }

  export default class Client_BetterSQLite3 extends Knex.Client {
    _query(connection: unknown, obj: KnexQuery): Promise<KnexQuery>;
    _optSafeIntegers(options: unknown): boolean | undefined;
    _formatBindings(bindings: unknown[] | undefined): unknown[];
  }
}
