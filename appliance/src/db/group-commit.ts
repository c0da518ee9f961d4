// Group commit for the records that follow reads (the audit record of a page view, the meeting
// page's client events, the connection log's entries of bus events): concurrent requests put their
// rows into one shared transaction, and each request is answered only once that transaction has
// committed - SQLite in WAL with synchronous=FULL, PostgreSQL with synchronous_commit on - so an
// answered request's rows survive SIGKILL and power loss, while many requests share one fsync.
// There is no delay: while one batch commits, the next gathers (PostgreSQL's own group commit and
// Postfix's "no 250 before fsync" are the models). A batch commits or fails as one: when any write
// in it fails, every caller in it is told so, and none is answered as saved. A write may return a
// value read in the transaction (an attempt counter's new count): its caller gets it once durable.
// On PostgreSQL two processes' batches can wait for each other's rows (the same counter keys in
// another order): the one PostgreSQL aborts as a deadlock is run again, whole, since nothing of it
// was committed.
import type { Knex } from 'knex';
import { textOf } from '../common/text.ts';

/** One caller's rows, written inside the shared transaction; what it returns is handed back. */
export type GroupWrite<T> = (trx: Knex.Transaction) => Promise<T>;

interface Waiting {
  write: GroupWrite<unknown>;
  result?: unknown;
  settle(error?: unknown): void;
}

/** PostgreSQL's deadlock_detected and serialization_failure: the transaction may simply run again. */
const transient = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
};
const attemptsPerBatch = 3;

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
    return new Promise<T>((resolve, reject) => {
      const waiting: Waiting = {
        write,
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
    while (this.#draining) await this.#draining;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        await this.#commitOne();
        // One turn of the event loop before the next batch: requests whose bytes arrived while the
        // last batch committed (better-sqlite3 commits synchronously) reach their writes and join it.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.#draining = undefined;
    }
  }

  async #commitOne(): Promise<void> {
    let batch: Waiting[] = [];
    try {
      for (let attempt = 1; ; attempt += 1) {
        try {
          await this.db.transaction(async (trx) => {
            // Taken once the transaction holds its connection: whatever arrived while it waited joins.
            if (batch.length === 0) batch = this.#queue.splice(0, this.maxBatch);
            for (const waiting of batch) waiting.result = await waiting.write(trx);
          });
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
    for (const waiting of batch) waiting.settle();
  }
}
