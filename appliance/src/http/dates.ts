// One strict reading of dates for every input. An instant is ISO 8601 with an explicit offset
// (2030-03-04T09:00:00+01:00 or …Z): a time without an offset would be read in the server's zone,
// which no booking should depend on. A day is YYYY-MM-DD. Both must name a real calendar date
// (no 30 February rolled over into March) in a range of years that makes sense for their use:
// a meeting from this year to ten years ahead, a day to look up from 2000 to the same horizon.
import Joi from 'joi';

export interface Years {
  from: number;
  to: number;
}

/** The horizon: bookings and look-ups more than ten years ahead are typing errors. */
const yearsAhead = 10;
const thisYear = () => new Date().getUTCFullYear();

/** A meeting's start: this year to ten years ahead. */
export const meetingYears = (): Years => ({ from: thisYear(), to: thisYear() + yearsAhead });
/** A day or period to look up in calendars, logs and reports. */
export const lookupYears = (): Years => ({ from: 2000, to: thisYear() + yearsAhead });

const instantPattern =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|([+-])(\d{2}):(\d{2}))$/;
const dayPattern = /^(\d{4})-(\d{2})-(\d{2})$/;

function realDay(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

export type DateProblem = 'format' | 'calendar' | 'years';

/** Reads an ISO 8601 instant with an explicit offset; a problem when it is not one, or not real. */
export function readInstant(text: string, years?: Years): Date | DateProblem {
  const m = instantPattern.exec(text);
  if (!m) return 'format';
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (!realDay(year, month, day) || hour > 23 || minute > 59 || second > 59) return 'calendar';
  if (m[7] && (Number(m[8]) > 14 || Number(m[9]) > 59)) return 'calendar';
  if (years && (year < years.from || year > years.to)) return 'years';
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? 'calendar' : date;
}

/** A day as written in queries and forms, YYYY-MM-DD. */
export type Day = `${number}-${number}-${number}`;

/** Reads a day, YYYY-MM-DD. */
export function readDay(text: string, years?: Years): Day | DateProblem {
  const m = dayPattern.exec(text);
  if (!m) return 'format';
  const [year, month, day] = [m[1], m[2], m[3]].map(Number) as [number, number, number];
  if (!realDay(year, month, day)) return 'calendar';
  if (years && (year < years.from || year > years.to)) return 'years';
  return text as Day;
}

/**
 * Joi's code for each problem (the error funnel words it in the request's language from
 * `validation.<code>`, admin/locales/*\/core.json) and its English text for any other reader.
 */
const problemMessages = (kind: 'instant' | 'day') => ({
  [`${kind}.format`]:
    kind === 'instant'
      ? '{{#label}} must be a date and time in ISO 8601 with an offset, e.g. 2030-03-04T09:00:00+01:00'
      : '{{#label}} must be a day written YYYY-MM-DD',
  [`${kind}.calendar`]: '{{#label}} must be a date that exists in the calendar',
  [`${kind}.years`]: '{{#label}} must be in the years {{#from}}–{{#to}}',
});

/** A joi field for an instant, converted to a Date. */
export function instant(years: () => Years): Joi.StringSchema<Date> {
  return Joi.string<Date>()
    .max(40)
    .custom((value: string, helpers) => {
      const range = years();
      const read = readInstant(value, range);
      return read instanceof Date ? read : helpers.error(`instant.${read}`, range);
    })
    .messages(problemMessages('instant'));
}

/** A joi field for a day, YYYY-MM-DD, kept as the string. */
export function day(years: () => Years): Joi.StringSchema {
  return Joi.string()
    .max(10)
    .custom((value: string, helpers) => {
      const range = years();
      const read = readDay(value, range);
      return read === value ? read : helpers.error(`day.${read as DateProblem}`, range);
    })
    .messages(problemMessages('day'));
}
