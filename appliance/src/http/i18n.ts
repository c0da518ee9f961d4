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
 * An API call (`/api/…`), which has no switch, may ask with Accept-Language: its answers (a
 * rule's message, a field that failed its check) then come in that language, Swedish otherwise.
 * Pages keep Swedish whatever the browser sends: the clinic's language, unless the person switches.
 */
export function languageOf(request: Request): Language {
  const chosen = request.state?.[languageCookie];
  if (isLanguage(chosen)) return chosen;
  const booked = request.app?.bookedLanguage;
  if (isLanguage(booked)) return booked;
  if (request.path?.startsWith('/api/')) return acceptedLanguage(textOf(request.headers?.['accept-language']));
  return defaultLanguage;
}

/** The language of an Accept-Language header (RFC 9110 §12.5.4) we speak with the highest weight; Swedish if none. */
export function acceptedLanguage(header: string): Language {
  let best: { language: Language; weight: number } | undefined;
  for (const range of header.split(',')) {
    const [tag = '', ...params] = range.trim().toLowerCase().split(';');
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    const weight = q === undefined ? 1 : Number(q);
    const language = tag.split('-')[0];
    if (isLanguage(language) && weight > 0 && (!best || weight > best.weight)) best = { language, weight };
  }
  return best?.language ?? defaultLanguage;
}

/** Whether a UI string exists (t shows a missing key as itself). */
export const hasString = (lang: Language, key: string): boolean => key in dictionaries[lang];

/** Marks whose page this is: from here on the request speaks their booked language (unless they chose). */
/**
 * The language switch sent with a form (the booking form, a guest's link page): this response
 * already speaks the language chosen; the caller sets the cookie on it for the pages after.
 */
export function speakChosenLanguage(request: Request, language: Language): void {
  request.state[languageCookie] = language;
}

export function speakBookedLanguage(request: Request, language: Language | undefined): void {
  if (language) request.app.bookedLanguage = language;
}

/** Looks up a UI string; `{name}` placeholders are filled from vars. Missing keys show the key. */
export function t(lang: Language, key: string, vars: Record<string, unknown> = {}): string {
  const text = dictionaries[lang][key] ?? dictionaries[defaultLanguage][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name: string) => textOf(vars[name]));
}
