// A value of unknown type as the text a person or a file reads: strings as they are, numbers and
// booleans as JavaScript writes them, dates in ISO 8601, nothing for null or undefined, and
// anything else as JSON - never "[object Object]".
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value) ?? '';
}
