// The clinic's clock: the calendar, the booking form and every message speak Swedish wall-clock
// time (Europe/Stockholm), the database and the API speak UTC instants. These helpers cross between
// the two, summer time included, without a time-zone library; every date a person reads is
// formatted here.
import { languages, localeOf, type Language } from './language.ts';

export const clinicTimeZone = 'Europe/Stockholm';

/** Date and time to the second on the clinic's clock: read back into parts, and shown to support. */
const toTheSecond = {
  timeZone: clinicTimeZone,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
} as const satisfies Intl.DateTimeFormatOptions;

/** "tisdag 3 mars 2026": a day written out, as the calendar and messages name it. */
const longDate = {
  weekday: 'long',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
} as const satisfies Intl.DateTimeFormatOptions;

const partsFormat = new Intl.DateTimeFormat('en-GB', { ...toTheSecond, hourCycle: 'h23' });

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallClock(instant: Date): WallClock {
  const parts = partsFormat.formatToParts(instant);
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour'),
    minute: get('minute'),
    second: get('second'),
  };
}

/** Minutes the clinic's clock is ahead of UTC at this instant (60 in winter, 120 in summer). */
function offsetMinutes(instant: Date): number {
  const w = wallClock(instant);
  return Math.round((Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - instant.getTime()) / 60000);
}

/**
 * The instants at which the clinic's clock shows `date` (YYYY-MM-DD) and `time` (HH:MM), earlier
 * first: one on every other night; none in the hour the clocks skip in spring (02:00–02:59 on the
 * last Sunday of March) and two in the hour they repeat in autumn (02:00–02:59 on the last Sunday
 * of October, summer time and then standard time).
 */
export function clinicInstants(date: string, time = '00:00'): Date[] {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const [hh, mm] = time.split(':').map(Number) as [number, number];
  const naive = Date.UTC(y, m - 1, d, hh, mm);
  // The clock changes at most once a day: the offsets half a day either side are the only ones.
  const offsets = new Set([-12, 12].map((hours) => offsetMinutes(new Date(naive + hours * 3_600_000))));
  return [...offsets]
    .map((offset) => new Date(naive - offset * 60000))
    .filter((instant) => {
      const shown = toClinicTime(instant);
      return shown.date === date && shown.time === time;
    })
    .sort((a, b) => a.getTime() - b.getTime());
}

/**
 * The instant at which the clinic's clock shows `date` (YYYY-MM-DD) and `time` (HH:MM). In the hour
 * repeated in autumn it is the first (summer time); a time in the hour skipped in spring, which the
 * clock never shows, is read with the offset before the change (02:30 becomes 03:30): the booking
 * and reschedule forms refuse such a time first (clinicInstants), the days' bounds never meet one.
 */
export function fromClinicTime(date: string, time = '00:00'): Date {
  const [first] = clinicInstants(date, time);
  if (first) return first;
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const [hh, mm] = time.split(':').map(Number) as [number, number];
  const naive = Date.UTC(y, m - 1, d, hh, mm);
  return new Date(naive - offsetMinutes(new Date(naive - 12 * 3_600_000)) * 60000);
}

/**
 * Whether the clinic's clock shows this instant's HH:MM twice that night (the hour repeated in
 * autumn), and if so whether this is the first, in summer time: a message then says which.
 */
export function repeatedHour(instant: Date): 'summer' | 'standard' | undefined {
  // Cheap first: the clinic's zone (EU rules) goes back on the last Sunday of October, 01:00 UTC,
  // so only an instant of that Sunday (UTC) can fall in the repeated hour; messages and pages format
  // many times and pay the zone's conversions only then.
  if (instant.getUTCMonth() !== 9 || instant.getUTCDay() !== 0 || instant.getUTCDate() < 25) return undefined;
  const { date, time } = toClinicTime(instant);
  const twice = clinicInstants(date, time);
  if (twice.length < 2) return undefined;
  return twice[0]!.getTime() === instant.getTime() ? 'summer' : 'standard';
}

const pad = (n: number) => String(n).padStart(2, '0');

/** YYYY-MM-DD and HH:MM on the clinic's clock. */
export function toClinicTime(instant: Date): { date: string; time: string } {
  const w = wallClock(instant);
  return { date: `${w.year}-${pad(w.month)}-${pad(w.day)}`, time: `${pad(w.hour)}:${pad(w.minute)}` };
}

/**
 * An instant in ISO 8601 on the clinic's clock, with its offset ("2026-07-01T12:15:30+02:00"): what
 * a person reads as the local time, and still one instant (the night summer time ends, 02:30 comes
 * twice, +02:00 and then +01:00).
 */
export function toClinicIso(instant: Date): string {
  const w = wallClock(instant);
  const offset = offsetMinutes(instant);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return (
    `${w.year}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

/** Calendar arithmetic on YYYY-MM-DD strings (days, not instants: summer time does not matter). */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** 0 = Monday … 6 = Sunday (Swedish weeks start on Monday). */
export function weekday(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7;
}

export const mondayOf = (date: string): string => addDays(date, -weekday(date));

/** ISO 8601 week number, as Swedish calendars show it. */
export function isoWeek(date: string): number {
  const thursday = addDays(date, 3 - weekday(date));
  const [y] = thursday.split('-').map(Number) as [number];
  const firstThursday = addDays(`${y}-01-04`, 3 - weekday(`${y}-01-04`));
  return 1 + Math.round((Date.parse(thursday) - Date.parse(firstThursday)) / (7 * 86400000));
}

/** A small memo for what the clinic's calendar never changes (where a day begins, its name). */
function remembered<T>(compute: (key: string) => T, size = 1000): (key: string) => T {
  const known = new Map<string, T>();
  return (key) => {
    let value = known.get(key);
    if (value === undefined) {
      // Bounded: a long-running process browsed far and wide starts over rather than grow.
      if (known.size >= size) known.clear();
      value = compute(key);
      known.set(key, value);
    }
    return value;
  };
}

/** The instant (ms) the clinic's day `date` begins. */
const dayStart = remembered((date) => fromClinicTime(date).getTime());

/** Today on the clinic's clock, with the instants it begins and ends: every page asks for it. */
let todayKnown: { date: string; start: number; end: number } | undefined;

/** Today's date (YYYY-MM-DD) on the clinic's clock. */
export function today(): string {
  const now = Date.now();
  if (todayKnown && now >= todayKnown.start && now < todayKnown.end) return todayKnown.date;
  const { date } = toClinicTime(new Date(now));
  todayKnown = { date, start: dayStart(date), end: dayStart(addDays(date, 1)) };
  return date;
}

const dayMs = 86_400_000;

/**
 * Consecutive days on the clinic's clock, for placing many instants in them (the calendar's day and
 * week): each day's bounds and offset are found once, and an instant's day and HH:MM are then plain
 * arithmetic. Only on the two days a year the clock changes is each instant converted on its own.
 */
export class ClinicDays {
  /** YYYY-MM-DD of each day. */
  readonly dates: string[];
  readonly from: Date;
  readonly to: Date;
  /** Each day's bounds (ms) and the ms the clinic's clock is ahead of UTC all day (none: it changes). */
  readonly #days: { start: number; end: number; offset: number | undefined }[];

  constructor(first: string, count: number) {
    this.dates = Array.from({ length: count }, (_, i) => addDays(first, i));
    this.#days = this.dates.map((date) => {
      const start = dayStart(date);
      const end = dayStart(addDays(date, 1));
      return { start, end, offset: end - start === dayMs ? Date.parse(`${date}T00:00:00Z`) - start : undefined };
    });
    this.from = new Date(dayStart(first));
    this.to = new Date(dayStart(addDays(first, count)));
  }

  /** The index of the day `instant` falls on, or -1 outside these days. */
  dayOf(instant: Date): number {
    const t = instant.getTime();
    return this.#days.findIndex((d) => t >= d.start && t < d.end);
  }

  /** HH:MM on the clinic's clock (also for an instant after these days, e.g. a meeting's end). */
  time(instant: Date): string {
    const t = instant.getTime();
    const offset = this.#days.find((d) => t >= d.start && t < d.end)?.offset;
    if (offset === undefined) return toClinicTime(instant).time;
    const wall = new Date(t + offset);
    return `${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())}`;
  }
}

// Building an Intl.DateTimeFormat is costly (it was 6 % of a booking's CPU): one per language, kept.
const formats = Object.fromEntries(
  languages.map((language) => {
    const locale = localeOf(language);
    return [
      language,
      {
        date: new Intl.DateTimeFormat(locale, { ...longDate, timeZone: clinicTimeZone }),
        time: new Intl.DateTimeFormat(locale, { timeZone: clinicTimeZone, hour: '2-digit', minute: '2-digit' }),
        // A wall-clock date of its own (YYYY-MM-DD at UTC midnight) is formatted without shifting it.
        day: new Intl.DateTimeFormat(locale, { ...longDate, timeZone: 'UTC' }),
        // With the zone's name (CEST, CET): the night summer time ends, 02:30 comes twice.
        stamp: new Intl.DateTimeFormat(locale, { ...toTheSecond, timeZoneName: 'short' }),
        zone: new Intl.DateTimeFormat(locale, { timeZone: clinicTimeZone, timeZoneName: 'short' }),
      },
    ];
  }),
) as Record<Language, Record<'date' | 'time' | 'day' | 'stamp' | 'zone', Intl.DateTimeFormat>>;

/** Which of the two 02:30s of the night the clocks go back, as a message says it. */
const repeatedHourNames: Record<Language, Record<'summer' | 'standard', string>> = {
  sv: { summer: 'sommartid', standard: 'normaltid' },
  en: { summer: 'summer time', standard: 'standard time' },
};

/** HH:MM, with "(sommartid)" or "(normaltid)" in the hour the clock shows twice. */
function clockTime(instant: Date, time: string, language: Language): string {
  const repeated = repeatedHour(instant);
  return repeated ? `${time} (${repeatedHourNames[language][repeated]})` : time;
}

/** "tisdag 3 mars 2026" and "09:00" on the clinic's clock, as messages write a meeting's time. */
export function formatWhen(date: Date, language: Language): { date: string; time: string } {
  return {
    date: formats[language].date.format(date),
    time: clockTime(date, formats[language].time.format(date), language),
  };
}

/** The clinic's zone at that instant, "CET" or "CEST": beside a time read by someone elsewhere. */
export const zoneName = (date: Date, language: Language): string =>
  formats[language].zone.formatToParts(date).find((p) => p.type === 'timeZoneName')?.value ?? '';

/**
 * Date and time with seconds on the clinic's clock and its zone ("2026-10-25 02:30:00 CEST"):
 * support compares entries seconds apart, and may sit in another zone.
 */
export const formatStamp = (date: Date, language: Language): string => formats[language].stamp.format(date);

const dayNames = Object.fromEntries(
  languages.map((lang) => [lang, remembered((date) => formats[lang].day.format(new Date(`${date}T00:00:00Z`)))]),
) as Record<Language, (date: string) => string>;

/** "tisdag 3 mars 2026" / "Tuesday, 3 March 2026". */
export function formatDay(date: string, lang: Language): string {
  return dayNames[lang](date);
}

/** "tisdag 3 mars 2026 kl. 09:00–09:45". */
export function formatSpan(startsAt: Date, minutes: number, lang: Language): string {
  const start = toClinicTime(startsAt);
  const endsAt = new Date(startsAt.getTime() + minutes * 60000);
  const end = toClinicTime(endsAt);
  return `${formatDay(start.date, lang)} ${lang === 'sv' ? 'kl.' : 'at'} ${clockTime(startsAt, start.time, lang)}–${clockTime(endsAt, end.time, lang)}`;
}
