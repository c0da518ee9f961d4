// Swedish personal identity numbers (personnummer) and coordination numbers (samordningsnummer,
// day of birth + 60): format, date and Luhn checksum. Normalised to 12 digits YYYYMMDDNNNC.
export type PersonalNumberProblem = 'format' | 'date' | 'checksum';

export type ParsedPersonalNumber = { ok: true; value: string } | { ok: false; problem: PersonalNumberProblem };

/** Luhn over the 10 digits YYMMDDNNNC: the last digit makes the weighted sum a multiple of 10. */
function luhnValid(tenDigits: string): boolean {
  let sum = 0;
  for (let i = 0; i < 10; i += 1) {
    let d = Number(tenDigits[i]) * (i % 2 === 0 ? 2 : 1);
    if (d > 9) d -= 9;
    sum += d;
  }
  return sum % 10 === 0;
}

function validDate(year: number, month: number, day: number): boolean {
  if (day > 60) day -= 60; // samordningsnummer
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * Accepts YYYYMMDDNNNC, YYYYMMDD-NNNC, YYMMDDNNNC, YYMMDD-NNNC and YYMMDD+NNNC (the '+' marks
 * someone aged 100 or more). A 10-digit number gets the century that puts the birth date in
 * the past, as the Swedish Tax Agency's rule does.
 */
export function parsePersonalNumber(input: string, today = new Date()): ParsedPersonalNumber {
  const match = /^(\d{2})?(\d{2})(\d{2})(\d{2})([-+]?)(\d{4})$/.exec(input.replace(/\s/g, ''));
  if (!match) return { ok: false, problem: 'format' };
  const [, century, yy, mm, dd, separator, rest] = match as unknown as [
    string,
    string | undefined,
    string,
    string,
    string,
    string,
    string,
  ];
  let year: number;
  if (century) {
    if (separator === '+') return { ok: false, problem: 'format' };
    year = Number(century + yy);
  } else {
    // The birth date must not lie ahead of today: the day counts, not only the year (someone born
    // in December a hundred years ago is 99 in November, and written with '-').
    const thisYear = today.getUTCFullYear();
    const birthDay = Number(mm) * 100 + (Number(dd) > 60 ? Number(dd) - 60 : Number(dd));
    const todayDay = (today.getUTCMonth() + 1) * 100 + today.getUTCDate();
    year = Math.floor(thisYear / 100) * 100 + Number(yy);
    if (year > thisYear || (year === thisYear && birthDay > todayDay)) year -= 100;
    if (separator === '+') year -= 100;
  }
  if (!validDate(year, Number(mm), Number(dd))) return { ok: false, problem: 'date' };
  // Nobody is born in the future: a 12-digit number with the wrong century (20261215 for 19261215)
  // is a typo, refused as a date rather than stored for someone else's extract to miss.
  const birth = Date.UTC(year, Number(mm) - 1, Number(dd) > 60 ? Number(dd) - 60 : Number(dd));
  if (birth > today.getTime()) return { ok: false, problem: 'date' };
  if (!luhnValid(`${yy}${mm}${dd}${rest}`)) return { ok: false, problem: 'checksum' };
  return { ok: true, value: `${year}${mm}${dd}${rest}` };
}

/** What staff see: the birth date and never the last four digits. */
export const maskPersonalNumber = (normalised: string): string => `${normalised.slice(0, 8)}-****`;
