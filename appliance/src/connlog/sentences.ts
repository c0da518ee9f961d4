// The short human sentence of an entry, rendered when it is read, in the reader's language, from
// its type and details (admin/locales/{sv,en}/connlog.json).
import { t, type Language } from '../http/i18n.ts';
import type { LogEntry } from './model.ts';

/** Details whose values are themselves words to translate. */
const translated: Record<string, string> = { kind: 'connlog.kind', channel: 'connlog.channel', action: 'connlog.action', verdict: 'connlog.verdict', person: 'connlog.person' };

export function sentence(entry: Pick<LogEntry, 'type' | 'details'>, lang: Language): string {
  const vars: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entry.details)) {
    vars[key] = translated[key] && typeof value === 'string' ? t(lang, `${translated[key]}.${value}`) : value;
  }
  let text = t(lang, `connlog.type.${entry.type}`, vars);
  if (typeof entry.details.reason === 'string' && entry.details.reason && entry.type.startsWith('message_')) text += ` (${entry.details.reason})`;
  return text;
}
