// Times are written as UTC ISO strings (better-sqlite3 cannot bind Date, and ISO strings sort and
// compare correctly in both SQLite and PostgreSQL timestamptz); rows map back to Date once, in stores.
export const iso = (date: Date = new Date()): string => date.toISOString();

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

// Column types as the two drivers return them, for the row interfaces of the stores.
/** A timestamp column: an ISO string from SQLite, a Date from PostgreSQL (timestamptz). */
export type DbTimestamp = string | Date;
/** A boolean column: 0/1 from SQLite, a boolean from PostgreSQL. */
export type DbBoolean = number | boolean;
/** A bigint (bigIncrements) column: a number from SQLite, a string from PostgreSQL. */
export type DbBigInt = number | string;
