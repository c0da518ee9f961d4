// Swedish first, English second: UI strings live in admin/locales/{sv,en}/<domain>.json, one file
// per domain, keyed alike in both languages (a test checks that every key exists in both).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Request } from '@hapi/hapi';
import { projectRoot } from '../config.ts';

import { defaultLanguage, languages, type Language } from '../common/language.ts';
import { textOf } from '../common/text.ts';

export { defaultLanguage, languages, type Language } from '../common/language.ts';
export const languageCookie = 'lang';

const dictionaries: Record<Language, Record<string, string>> = {
  sv: load('sv'),
  en: load('en'),
};

function load(lang: Language): Record<string, string> {
  const dir = join(projectRoot, 'admin', 'locales', lang);
  const merged: Record<string, string> = {};
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    for (const [key, value] of Object.entries(
      JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, string>,
    )) {
      if (key in merged) throw new Error(`UI string ${key} is defined twice (admin/locales/${lang}/${file})`);
      merged[key] = value;
    }
  }
  return merged;
}

export const stringKeys = (lang: Language): string[] => Object.keys(dictionaries[lang]);

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (languages as readonly string[]).includes(value);
}

declare module '@hapi/hapi' {
  interface RequestApplicationState {
    /** The language a participant was booked in, once a route knows whose page it shows. */
    bookedLanguage?: Language;
  }
}

/**
 * The page's language: the one the person chose with the switch, else the one their booking
 * names (a participant booked in English reads English from the link's first page), else Swedish.
 */
export function languageOf(request: Request): Language {
  const chosen = request.state?.[languageCookie];
  if (isLanguage(chosen)) return chosen;
  const booked = request.app?.bookedLanguage;
  return isLanguage(booked) ? booked : defaultLanguage;
}

/** Marks whose page this is: from here on the request speaks their booked language (unless they chose). */
export function speakBookedLanguage(request: Request, language: Language | undefined): void {
  if (language) request.app.bookedLanguage = language;
}

/** Looks up a UI string; `{name}` placeholders are filled from vars. Missing keys show the key. */
export function t(lang: Language, key: string, vars: Record<string, unknown> = {}): string {
  const text = dictionaries[lang][key] ?? dictionaries[defaultLanguage][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name: string) => textOf(vars[name]));
}
