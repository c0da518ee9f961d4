// How an engine would run a statement a test captured (from knex's 'query' event), for tests that
// check which index a read of a growing table goes through (test/db/plans.ts).
import type { Knex } from 'knex';
import { clientOf, isSqlite, rawRows, type Db } from '../../appliance/src/db/knex.ts';

/**
 * The plan of a statement, a line per step: SQLite's EXPLAIN QUERY PLAN; PostgreSQL's EXPLAIN with
 * sequential scans switched off, so a plan there that still reads a table whole has no index to use.
 */
export async function planOf(db: Db, sql: string, bindings: readonly Knex.RawBinding[]): Promise<string> {
  if (isSqlite(db))
    return (await rawRows<{ detail: string }>(db, `explain query plan ${sql}`, bindings))
      .map((r) => r.detail)
      .join('\n');
  // knex hands PostgreSQL its own $1 placeholders: the driver's connection runs the statement as made.
  const client = clientOf(db);
  const connection = (await client.acquireConnection()) as {
    query(sql: string, values?: unknown): Promise<{ rows: { 'QUERY PLAN': string }[] }>;
  };
  try {
    await connection.query('begin');
    await connection.query('set local enable_seqscan = off');
    const { rows } = await connection.query(`explain ${sql}`, bindings);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  } finally {
    await connection.query('rollback');
    await client.releaseConnection(connection);
  }
}
