// Tests index arrays and regular-expression groups that the scenario has just made exist (the
// booked meeting's first participant, the code in the SMS). `present` turns "it is not there after
// all" into a failure that names what is missing, instead of an undefined that fails later and
// elsewhere - and gives the type checker (noUncheckedIndexedAccess) the element it needs.
export function present<T>(value: T | null | undefined, what: string): T {
  if (value === undefined || value === null) throw new Error(`expected ${what}, but it is missing`);
  return value;
}
