// Group commit for the records that follow reads (the audit record of a page view, the meeting
// page's client events, the connection log's entries of bus events): concurrent requests put their
// rows into one shared transaction, and each request is answered only once that transaction has
// committed durably - SQLite's write-ahead log synced, PostgreSQL with synchronous_commit on - so an
// answered request's rows survive SIGKILL and power loss, while many requests share one fsync.
// There is no delay: while one batch commits, the next gathers (PostgreSQL's own group commit and
// Postfix's "no 250 before fsync" are the models). A batch commits or fails as one: when any write
// in it fails, every caller in it is told so, and none is answered as saved. A write may return a
// value read in the transaction (an attempt counter's new count): its caller gets it once durable.
// On PostgreSQL two processes' batches can wait for each other's rows (the same counter keys in
// another order): the one PostgreSQL aborts as a deadlock is run again, whole, since nothing of it
// was committed.
//
// On SQLite the changes themselves share commits too. There is one connection and one writer, so
// every change waits for the one before it anyway, and each commit costs an fsync (a quarter of a
// booking's time, most of 500 guests' entry, when SQLite made it on the event loop). The SQLite dialect hands each
// top-level `db.transaction(…)` to `change()` (sqlite-client.ts): the change runs in a savepoint
// of the shared transaction, so a change that fails rolls back alone and is told so, while the
// others commit; each is answered once the shared transaction has committed. On PostgreSQL each
// change keeps its own transaction: connections commit in parallel there, and PostgreSQL groups
// their WAL flushes itself. On SQLite a batch's fsync is made off the event loop (sqlite-client.ts):
// the next batch is written while the disk syncs the last, whose callers are answered once it is done.
import type { Knex } from 'knex';
import { textOf } from '../common/text.ts';
import { clientOf } from './knex.ts';
import { batchTransaction, durableWhen, type DurableWhen } from './sqlite-client.ts';

/** One caller's rows, written inside the shared transaction; what it returns is handed back. */
export type GroupWrite<T> = (trx: Knex.Transaction) => Promise<T>;

interface Waiting {
  write: GroupWrite<unknown>;
  /** A change of its own (`change()`): it runs in a savepoint, and failing fails only itself. */
  own: boolean;
  result?: unknown;
  /** Why an own change failed (its savepoint rolled back; the batch went on). */
  failed?: unknown;
  settle(error?: unknown): void;
}

/** PostgreSQL's deadlock_detected and serialization_failure: the transaction may simply run again. */
const transient = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
};
const attemptsPerBatch = 3;
/** The most turns of the event loop a batch waits for more writes while they keep coming. */
const gatherTurns = 16;

export interface GroupCommitStats {
  /** Transactions committed. */
  commits: number;
  /** Writes in them. */
  writes: number;
  /** Batches that failed (each failing every write in it). */
  failures: number;
}

export class GroupCommit {
  readonly #queue: Waiting[] = [];
  #draining: Promise<void> | undefined;
  /** Batches committed whose callers wait for the commit's sync (SQLite). */
  readonly #syncing = new Set<Promise<void>>();
  readonly stats: GroupCommitStats = { commits: 0, writes: 0, failures: 0 };

  constructor(
    private readonly db: Knex,
    /** The most writes one transaction takes; more wait for the next. */
    private readonly maxBatch = 500,
  ) {}

  /**
   * Resolves with what `write` returned once it has committed durably (with whatever else was
   * waiting); rejects if its batch failed.
   */
  write<T>(write: GroupWrite<T>): Promise<T> {
    return this.#enqueue(write, false);
  }

  /**
   * A change of its own, as `db.transaction(change)` would run it, but sharing the commit: it runs
   * in a savepoint of the shared transaction. Resolves with what it returned once that transaction
   * has committed; rejects with its own error, having changed nothing, if it throws; rejects if the
   * shared transaction fails.
   */
  change<T>(change: GroupWrite<T>): Promise<T> {
    return this.#enqueue(change, true);
  }

  #enqueue<T>(write: GroupWrite<T>, own: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiting: Waiting = {
        write,
        own,
        settle: (error) =>
          error === undefined
            ? resolve(waiting.result as T)
            : reject(error instanceof Error ? error : new Error(textOf(error))),
      };
      this.#queue.push(waiting);
      // Writes queued in the same turn of the event loop start the batch together.
      this.#draining ??= new Promise<void>((done) => setImmediate(done)).then(() => this.#drain());
    });
  }

  /** Waits until every write queued so far has committed or failed (before the database closes). */
  async settled(): Promise<void> {
    while (this.#draining || this.#syncing.size > 0) {
      await this.#draining;
      await Promise.all(this.#syncing);
    }
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        await this.#commitOne();
        // Turns of the event loop before the next batch: requests whose bytes arrived while the
        // last batch was written (better-sqlite3 writes synchronously) reach their writes and join
        // it. While each turn brings more, another is waited for (a few at most).
        for (let turns = 0, seen = -1; turns < gatherTurns && this.#queue.length !== seen; turns += 1) {
          seen = this.#queue.length;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
    } finally {
      this.#draining = undefined;
    }
  }

  async #commitOne(): Promise<void> {
    let batch: Waiting[] = [];
    // Where the SQLite dialect leaves the promise of the commit's sync (sqlite-client.ts).
    const durableAfter: DurableWhen = {};
    const config = { [batchTransaction]: true, [durableWhen]: durableAfter } as Knex.TransactionConfig;
    try {
      for (let attempt = 1; ; attempt += 1) {
        try {
          await this.db.transaction(async (trx) => {
            // Taken once the transaction holds its connection: whatever arrived while it waited joins.
            if (batch.length === 0) batch = this.#queue.splice(0, this.maxBatch);
            for (const waiting of batch) {
              waiting.failed = undefined;
              if (!waiting.own) {
                waiting.result = await waiting.write(trx);
                continue;
              }
              try {
                waiting.result = await trx.transaction(waiting.write);
              } catch (error) {
                waiting.failed = error ?? new Error('the change failed');
                await mustStillBeOpen(trx, error);
              }
            }
          }, config);
          break;
        } catch (error) {
          if (!transient(error) || attempt === attemptsPerBatch) throw error;
        }
      }
    } catch (error) {
      // No connection at all: the writes waiting now fail rather than wait for ever.
      if (batch.length === 0) batch = this.#queue.splice(0, this.maxBatch);
      this.stats.failures += 1;
      for (const waiting of batch) waiting.settle(error ?? new Error('group commit failed'));
      return;
    }
    this.stats.commits += 1;
    this.stats.writes += batch.length;
    const durable = durableAfter.synced;
    if (!durable) {
      for (const waiting of batch) waiting.settle(waiting.failed);
      return;
    }
    // Committed, and on disk once the log's sync ends: the next batch runs meanwhile, and this
    // batch's callers are answered once their rows are durable.
    const answered = durable.then(
      () => {
        for (const waiting of batch) waiting.settle(waiting.failed);
      },
      (error: unknown) => {
        this.stats.failures += 1;
        for (const waiting of batch) waiting.settle(error ?? new Error('the commit could not be made durable'));
      },
    );
    this.#syncing.add(answered);
    void answered.finally(() => this.#syncing.delete(answered));
  }
}

/**
 * After a change failed in its savepoint the shared transaction must still be open. SQLite ends a
 * whole transaction by itself on some errors (a full disk, an I/O error): the later changes would
 * then run outside any transaction and commit alone, so the batch stops and fails as one instead.
 */
async function mustStillBeOpen(trx: Knex.Transaction, cause: unknown): Promise<void> {
  const connection = (await clientOf(trx).acquireConnection()) as { inTransaction?: unknown };
  if (connection.inTransaction === false)
    throw new Error(`the shared transaction ended with a change's failure: ${textOf(cause)}`);
}
