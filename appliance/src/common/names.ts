// The name rule. The routine: a guest types their name exactly as invited. "Exactly" means what a
// person would call the same name: surrounding and repeated spaces, Unicode composition and letter
// case do not count, nor which apostrophe or hyphen a keyboard put in (a phone's ’ for the booking's
// '); spelling does. Every comparison of people's names (the name check at entry,
// the patient search for a log extract, support's search) uses this one rule.

/**
 * A name as it is stored: trimmed, inner whitespace collapsed to one space, Unicode NFC (å typed two ways is
 * one å).
 */
export const tidyName = (name: string): string => name.normalize('NFC').replace(/\s+/gu, ' ').trim();

/**
 * Apostrophes and hyphens as keyboards type them: iOS and macOS turn ' into ’ as it is typed (smart
 * punctuation), some keyboards give the modifier letter ʼ or an accent; hyphens come as Unicode's
 * own, non-breaking, or the dash a Mac types for option-hyphen.
 */
const apostrophes = /[\u2018\u2019\u201b\u02bc\u02b9\u00b4\u0060\u2032]/gu;
const hyphens = /[\u2010-\u2015\u2212\ufe63\uff0d]/gu;

/**
 * What two names are compared by: the tidy name without letter case, one apostrophe and one hyphen.
 * Staff accounts keep theirs for the admin's search in SQL (migration 0034 computed the first ones
 * with this rule as it was then: a change of it needs a migration that computes them again).
 */
export const nameKey = (name: string): string =>
  tidyName(name).toLocaleLowerCase('sv-SE').replace(apostrophes, "'").replace(hyphens, '-');

export const namesMatch = (typed: string, invited: string): boolean => nameKey(typed) === nameKey(invited);

/** Support's search: the typed part appears in the name (same rule). */
export const nameContains = (name: string, typed: string): boolean => nameKey(name).includes(nameKey(typed));
