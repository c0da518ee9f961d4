// CSV for exports (connection logs, evaluation reports): RFC 4180 quoting, CRLF, and cells that
// a spreadsheet would run as a formula (=, +, -, @) are prefixed with an apostrophe.
export function toCsv(header: string[], rows: unknown[][]): string {
  const cell = (value: unknown): string => {
    let text = value === null || value === undefined ? '' : value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
    if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return [header, ...rows].map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
}
