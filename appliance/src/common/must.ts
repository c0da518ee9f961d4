// What the code's own logic guarantees but the type system cannot see (a count query's one row, a
// group of a regular expression that matched, the part before the first ':' of a split): when it
// is missing after all, that is a bug, thrown as one - never a silent `undefined` travelling on.
export function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what}: missing, which cannot happen`);
  return value;
}
