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
