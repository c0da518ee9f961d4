// The short human sentence of an entry, rendered when it is read, in the reader's language, from
// its type and details (admin/locales/{sv,en}/connlog.json).
import { formatStamp } from '../common/clock.ts';
import { t, type Language } from '../http/i18n.ts';
import type { LogEntry } from './model.ts';

/**
 * Details whose values are themselves words to translate. Maps, not objects: a meeting page's detail
 * may be called anything ("constructor"), and must not find an object's own properties.
 */
const translated = new Map([
  ['kind', 'connlog.kind'],
  ['channel', 'connlog.channel'],
  ['action', 'connlog.action'],
  ['verdict', 'connlog.verdict'],
  ['person', 'connlog.person'],
  ['problem', 'connlog.problem'],
  ['cause', 'connlog.endCause'],
  ['leave', 'connlog.leave'],
]);

/**
 * A detail's value as a word in the reader's language, or as sent: a meeting page's detail may
 * share a name with one of these (kind, problem) without holding one of their words.
 */
function word(key: string, value: string, lang: Language): string {
  const words = translated.get(key);
  return words ? textOr(lang, `${words}.${value}`, value) : value;
}

/** The text of `label` in the reader's language, or `otherwise` where this log has none. */
function textOr(lang: Language, label: string, otherwise: string): string {
  const text = t(lang, label);
  return text === label ? otherwise : text;
}

export function sentence(entry: Pick<LogEntry, 'type' | 'details'>, lang: Language): string {
  const vars: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entry.details))
    vars[key] = typeof value === 'string' ? word(key, value, lang) : value;
  // An end logged before its cause was kept: staff ended it by hand, else the schedule when its time was up.
  if (entry.type === 'meeting_ended' && typeof entry.details.cause !== 'string')
    vars.cause = word('cause', entry.details.byStaffId ? 'staff' : 'time', lang);
  let text = t(lang, `connlog.type.${entry.type}`, vars);
  if (typeof entry.details.reason === 'string' && entry.details.reason && entry.type.startsWith('message_'))
    text += ` (${entry.details.reason})`;
  return text;
}

/** Details that only identify (staff ids are shown by name). */
const identifying = new Set(['byStaffId', 'staffId']);

/** Leaves every {placeholder} in place, to see which details a sentence takes. */
const keepPlaceholders = new Proxy({}, { get: (_, name) => `{${String(name)}}` });

/**
 * Whether the entry's sentence already says this detail (its text has the {placeholder}): a
 * patient's or proxy's wrong name says whose in the sentence, their test and errors as a fact.
 */
const inSentence = (type: string, key: string, lang: Language): boolean =>
  t(lang, `connlog.type.${type}`, keepPlaceholders).includes(`{${key}}`);

/** How each detail's value reads: a unit, yes/no, or a word to translate. */
const units = new Map([
  ['rttMs', 'ms'],
  ['jitterMs', 'ms'],
  ['throughputKbps', 'kbit/s'],
  ['downloadKbps', 'Mbit/s'],
  ['uploadKbps', 'Mbit/s'],
  ['awaySeconds', 's'],
]);
const answers = new Set(['camera', 'microphone', 'sound']);
const instants = new Set(['clientAt', 'previousStartsAt', 'startsAt']);

function detailValue(key: string, value: string | number | boolean, lang: Language): string {
  const locale = lang === 'sv' ? 'sv-SE' : 'en-GB';
  if (typeof value === 'boolean')
    return t(lang, key === 'relayUdp' || key === 'relayTcp' ? `connlog.works.${value}` : `connlog.yesNo.${value}`);
  if (answers.has(key) && typeof value === 'string') return t(lang, `connlog.answer.${key}.${value}`);
  if (translated.has(key) && typeof value === 'string') return word(key, value, lang);
  // When the browser saw it, a moved meeting's times (instants, as sent): on the clinic's clock, as
  // the entries' own times.
  if (instants.has(key) && typeof value === 'string' && !Number.isNaN(Date.parse(value)))
    return formatStamp(new Date(value), lang);
  if (typeof value !== 'number') return value;
  if (key === 'loss') return `${new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(value * 100)} %`;
  // Estimates in Mbit/s with one decimal: "4,1 Mbit/s", not "4064.248062015504".
  const unit = units.get(key);
  if (unit === 'Mbit/s')
    return `${new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(value / 1000)} Mbit/s`;
  const number = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(value);
  return unit ? `${number} ${unit}` : number;
}

/** A detail's label; one the meeting page passed on from Jitsi that has none goes by its own name. */
function detailLabel(key: string, lang: Language): string {
  return textOr(lang, `connlog.detail.${key}`, key);
}

/**
 * An entry's details for a person to read: labelled in the reader's language, values with units,
 * nothing the sentence already says. `staffNames` turns a staff id into the colleague's name.
 */
export function detailFacts(
  entry: Pick<LogEntry, 'type' | 'details'>,
  lang: Language,
  staffNames: Map<string, string>,
): { k: string; v: string }[] {
  const facts: { k: string; v: string }[] = [];
  for (const [key, value] of Object.entries(entry.details)) {
    // A reason is in a message's or a cancellation's sentence; an end's is what the room was told.
    if (value === null || value === '' || (key === 'reason' && entry.type !== 'meeting_ended')) continue;
    if ((key === 'staffId' || key === 'byStaffId') && typeof value === 'string')
      facts.push({
        k: t(lang, 'connlog.detail.staff'),
        v: staffNames.get(value) ?? t(lang, 'connlog.detail.unknownStaff'),
      });
    if (identifying.has(key) || inSentence(entry.type, key, lang)) continue;
    facts.push({ k: detailLabel(key, lang), v: detailValue(key, value, lang) });
  }
  return facts;
}
