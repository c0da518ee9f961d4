// Swedish first, English second: UI strings live in admin/locales/{sv,en}.json, keyed alike.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Request } from '@hapi/hapi';
import { projectRoot } from '../config.ts';

export const languages = ['sv', 'en'] as const;
export type Language = (typeof languages)[number];
export const defaultLanguage: Language = 'sv';
export const languageCookie = 'lang';

const dictionaries: Record<Language, Record<string, string>> = {
  sv: load('sv'),
  en: load('en'),
};

function load(lang: Language): Record<string, string> {
  return JSON.parse(readFileSync(join(projectRoot, 'admin', 'locales', `${lang}.json`), 'utf8'));
}

/** Domains add their strings at registration; a key defined twice is a programmer error. */
export function addStrings(lang: Language, strings: Record<string, string>): void {
  for (const [key, value] of Object.entries(strings)) {
    if (key in dictionaries[lang] && dictionaries[lang][key] !== value) throw new Error(`UI string ${key} defined twice`);
    dictionaries[lang][key] = value;
  }
}

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (languages as readonly string[]).includes(value);
}

export function languageOf(request: Request): Language {
  const chosen = request.state?.[languageCookie];
  return isLanguage(chosen) ? chosen : defaultLanguage;
}

/** Looks up a UI string; `{name}` placeholders are filled from vars. Missing keys show the key. */
export function t(lang: Language, key: string, vars: Record<string, unknown> = {}): string {
  const text = dictionaries[lang][key] ?? dictionaries[defaultLanguage][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? ''));
}
