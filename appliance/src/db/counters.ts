// Fixed-window attempt counters in the database. One statement increments and returns the new
// count, so a burst of parallel requests (or several processes on one PostgreSQL) can never read
// the same count twice: the n-th attempt in a window always sees n. Works on SQLite ≥ 3.35 and
// PostgreSQL (INSERT … ON CONFLICT … RETURNING).
import type { Knex } from 'knex';
import { rawRows } from './knex.ts';
import type { DbBigint } from './values.ts';
import { must } from '../common/must.ts';

export interface Attempt {
  /** Attempts in this window, this one included. */
  hits: number;
  resetsAt: Date;
}

const upsert = `
  insert into attempt_counters (key, hits, resets_at) values (?, 1, ?)
  on conflict (key) do update set
    hits = case when attempt_counters.resets_at <= ? then 1 else attempt_counters.hits + 1 end,
    resets_at = case when attempt_counters.resets_at <= ? then excluded.resets_at else attempt_counters.resets_at end
  returning hits, resets_at`;

// Expired windows are swept now and then (by each process), not on every attempt.
const sweepEveryMs = 10 * 60_000;
let lastSweep = 0;

/** Counts one attempt under `key` in a window of `windowSeconds` starting at its first attempt. */
export async function countAttempt(db: Knex, key: string, windowSeconds: number, now = new Date()): Promise<Attempt> {
  const at = now.getTime();
  if (at - lastSweep > sweepEveryMs) {
    lastSweep = at;
    await db('attempt_counters').where('resets_at', '<=', at).delete();
  }
  const rows = await rawRows<{ hits: DbBigint; resets_at: DbBigint }>(db, upsert, [
    key,
    at + windowSeconds * 1000,
    at,
    at,
  ]);
  const row = must(rows[0], 'the counter row the upsert returns');
  return { hits: Number(row.hits), resetsAt: new Date(Number(row.resets_at)) };
}

/** Forgets a key's attempts (e.g. a re-sent invitation starts its limits afresh). */
export async function clearAttempts(db: Knex, key: string): Promise<void> {
  await db('attempt_counters').where({ key }).delete();
}

/** Gives one attempt back (one that turned out not to be a guess: a login that succeeded). */
export async function refundAttempt(db: Knex, key: string): Promise<void> {
  await db('attempt_counters').where({ key }).andWhere('hits', '>', 0).decrement('hits', 1);
}
