// The two languages of every page and message: Swedish first (the default), English second.
export const languages = ['sv', 'en'] as const;
export type Language = (typeof languages)[number];
export const defaultLanguage: Language = 'sv';

/** The Intl locale a language's dates and numbers are written in. */
export const localeOf = (language: Language): string => (language === 'sv' ? 'sv-SE' : 'en-GB');
