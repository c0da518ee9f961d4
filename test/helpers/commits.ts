// Counts what reaches the disk: each committed transaction (or statement outside one) with the tables
// it wrote, as the database saw it (knex's query events), told apart into the action's own commits
// and the group committer's shared ones (db/group-commit.ts). Works on both engines. On SQLite a
// change runs in a savepoint of a commit it shares with others: the savepoint is its own commit here.
import type { Db } from '../../appliance/src/db/knex.ts';
import type { TestServer } from './server.ts';

export interface Commit {
  tables: Set<string>;
  /** The tables it inserted rows into (a subset of `tables`). */
  inserted: Set<string>;
  /** A group commit: a transaction shared with whatever else was waiting. */
  shared: boolean;
}

const sharedMark = "select 'group commit' as mark";

/** The tables each committed transaction (or statement outside one) wrote. */
export function watchCommits(db: Db) {
  // The transactions open on each connection, the innermost last; `undefined` for one that began
  // before the watch did (another's: the outbox's batch on PostgreSQL), whose commit is not counted.
  // The statements themselves say which is current: knex tags a statement with the id of the
  // transaction that last took its connection, and a savepoint, once released, leaves its id there
  // for the rest of the transaction around it.
  const open = new Map<unknown, (Commit | undefined)[]>();
  const commits: Commit[] = [];
  const listener = (q: { sql: string; __knexUid?: unknown; __knexTxId?: string }) => {
    const sql = q.sql.trim().toLowerCase();
    const [, verb, table] = /^(insert into|update|delete from)\s+[`"]?(\w+)/.exec(sql) ?? [];
    const inserted = verb === 'insert into' && table ? [table] : [];
    const stack = open.get(q.__knexUid) ?? [];
    open.set(q.__knexUid, stack);
    if (/^(begin|savepoint)\b/.test(sql)) {
      // A savepoint with nothing open here is in a transaction that began before the watch.
      if (sql.startsWith('savepoint') && stack.length === 0) stack.push(undefined);
      const inOneBefore = stack.length > 0 && stack.at(-1) === undefined;
      stack.push(inOneBefore ? undefined : { tables: new Set(), inserted: new Set(), shared: false });
      return;
    }
    if (stack.length === 0) {
      if (q.__knexTxId) stack.push(undefined);
      else {
        if (table) commits.push({ tables: new Set([table]), inserted: new Set(inserted), shared: false });
        return;
      }
    }
    const commit = stack.at(-1);
    if (commit && table) commit.tables.add(table);
    for (const t of inserted) commit?.inserted.add(t);
    if (commit && sql === sharedMark) commit.shared = true;
    // A change that shares its commit (SQLite, db/group-commit.ts) is a savepoint of the shared
    // transaction: it counts as the action's own once released, and is durable with that commit.
    if (/^(commit|release savepoint|rollback)\b/.test(sql)) {
      stack.pop();
      if (commit && !sql.startsWith('rollback')) commits.push(commit);
    }
  };
  db.on('query', listener);
  return { commits, stop: () => db.off('query', listener) };
}

/** What one action committed. */
export interface ActionCommits<T> {
  result: T;
  /** The tables of each transaction the action committed on its own, sorted. */
  own: string[][];
  /** The tables of the group commits its records rode (shared with whatever else was waiting). */
  shared: string[][];
}

// The outbox's dispatcher sends in the background, in batched transactions of its own
// (ARCHITECTURE.md): it claims and records messages (outbox tables) with what their statuses cause
// (the connection log's entries, the participants' statuses), but never queues a message of its own
// (an e-mail in place of a failed SMS aside, which these tests do not cause). A request that
// sends a message inserts it.
const causedByStatuses = new Set(['connlog_entries', 'participants']);
const dispatcherOnly = (c: Commit) =>
  [...c.tables].some((table) => table.startsWith('outbox_')) &&
  !c.inserted.has('outbox_messages') &&
  [...c.tables].every((table) => table.startsWith('outbox_') || causedByStatuses.has(table));

/**
 * Runs one action (a request) and sorts the commits it caused, from an idle group committer to an
 * idle one. Each group commit is marked from inside (a harmless select in its transaction) so it
 * can be told from the action's own.
 */
export async function commitsOf<T>(app: TestServer, action: () => Promise<T>): Promise<ActionCommits<T>> {
  const { db, groupCommit } = app.server.app;
  await groupCommit.settled();
  const write = groupCommit.write.bind(groupCommit);
  groupCommit.write = (work) => write(async (trx) => (await trx.raw(sharedMark), work(trx)));
  const watch = watchCommits(db);
  try {
    const result = await action();
    await groupCommit.settled();
    const written = watch.commits.filter((c) => c.tables.size > 0 && !dispatcherOnly(c));
    const tables = (commits: Commit[]) => commits.map((c) => [...c.tables].sort());
    return {
      result,
      own: tables(written.filter((c) => !c.shared)),
      shared: tables(written.filter((c) => c.shared)),
    };
  } finally {
    watch.stop();
    groupCommit.write = write;
  }
}
