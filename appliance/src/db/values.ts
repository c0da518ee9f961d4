// Times are written as UTC ISO strings (better-sqlite3 cannot bind Date, and ISO strings sort and
// compare correctly in both SQLite and PostgreSQL timestamptz); rows map back to Date once, in stores.
export const iso = (date: Date = new Date()): string => date.toISOString();

/**
 * A list cut into pieces for statements that take a list (`whereIn`, a multi-row insert): SQLite
 * binds at most 32,766 values, and knex writes a multi-row insert as at most 500 UNION ALL terms.
 */
export function chunks<T>(items: readonly T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function toDate(value: unknown): Date;
export function toDate(value: unknown, nullable: true): Date | null;
export function toDate(value: unknown, nullable = false): Date | null {
  if (value === null || value === undefined) {
    if (nullable) return null;
    throw new TypeError('expected a timestamp');
  }
  return value instanceof Date ? value : new Date(value as string);
}

export const toBool = (value: unknown): boolean => value === true || value === 1 || value === '1';

// What the drivers hand back for a column, so that each store's row interface says it once:
// better-sqlite3 gives timestamps as the ISO text written, booleans as 0/1 and counts as numbers;
// pg gives timestamptz as Date, booleans as booleans, and bigint (bigIncrements ids, count(*)) as text.
export type DbTimestamp = string | Date;
export type DbBoolean = boolean | number;
export type DbBigint = number | string;
