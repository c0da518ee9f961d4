// The routine: a guest types their name exactly as invited. "Exactly" means what a person would
// call the same name: surrounding and repeated spaces, Unicode composition and letter case do not
// count; spelling does.
export function normaliseName(name: string): string {
  return name.normalize('NFC').trim().replace(/\s+/gu, ' ').toLocaleLowerCase('sv-SE');
}

export const namesMatch = (typed: string, invited: string): boolean => normaliseName(typed) === normaliseName(invited);
