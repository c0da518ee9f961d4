// The name rule. The routine: a guest types their name exactly as invited. "Exactly" means what a
// person would call the same name: surrounding and repeated spaces, Unicode composition and letter
// case do not count; spelling does. Every comparison of people's names (the name check at entry,
// the patient search for a log extract, support's search) uses this one rule.

/**
 * A name as it is stored: trimmed, inner whitespace collapsed to one space, Unicode NFC (å typed two ways is
 * one å).
 */
export const tidyName = (name: string): string => name.normalize('NFC').replace(/\s+/gu, ' ').trim();

/** What two names are compared by: the tidy name without letter case. */
export const nameKey = (name: string): string => tidyName(name).toLocaleLowerCase('sv-SE');

export const namesMatch = (typed: string, invited: string): boolean => nameKey(typed) === nameKey(invited);

/** Support's search: the typed part appears in the name (same rule). */
export const nameContains = (name: string, typed: string): boolean => nameKey(name).includes(nameKey(typed));
