// CSV for exports (connection logs, evaluation reports, patients' log extracts): RFC 4180 quoting,
// CRLF, and cells that a spreadsheet would run as a formula (=, +, -, @) prefixed with an
// apostrophe. Hand-written rather than csv-stringify: the formula guard is most of the work and
// the whole writer is a dozen lines.
import { textOf } from './text.ts';

export interface CsvOptions {
  /** `;` with a byte-order mark is what Excel with Swedish settings opens as columns. */
  delimiter?: ',' | ';';
  bom?: boolean;
}

/**
 * What every export a person opens is written with (the log extract, the evaluation report, the
 * connection log): Excel with Swedish settings opens it as columns, "ä" as "ä".
 */
export const forExcel = { delimiter: ';', bom: true } as const satisfies CsvOptions;

export function toCsv(header: string[], rows: unknown[][], options: CsvOptions = {}): string {
  const delimiter = options.delimiter ?? ',';
  const cell = (value: unknown): string => {
    let text = textOf(value);
    if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    return /["\r\n]/.test(text) || text.includes(delimiter) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const lines = [header, ...rows].map((row) => row.map(cell).join(delimiter));
  return `${options.bom ? '\uFEFF' : ''}${lines.join('\r\n')}\r\n`;
}
