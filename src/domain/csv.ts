import { Readable } from 'node:stream';

/**
 * CSV for every export: RFC 4180 quoting, one `\n` after each record, and OWASP's
 * defence against formula injection ("CSV injection"): a text cell that starts with =,
 * +, -, @, tab or carriage return is prefixed with a single quote and quoted, so a
 * spreadsheet shows it as text instead of running it (`=HYPERLINK(…)`, `@SUM(…)`, DDE).
 * Exports build their cells with these functions rather than writing CSV by hand.
 */
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

const quoted = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** One cell: null is empty, booleans are true/false, text is formula-escaped and quoted when it must be. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return value.toISOString();
  const s = String(value);
  if (typeof value === 'string' && FORMULA_START.test(s)) return quoted(`'${s}`);
  return NEEDS_QUOTES.test(s) ? quoted(s) : s;
}

export const csvLine = (cells: readonly unknown[]): string => `${cells.map(csvCell).join(',')}\n`;

/**
 * A header and then one line per row, as a byte stream that pulls `rows` only when its
 * reader wants more: small lines are gathered into chunks of about `chunkBytes`, a big
 * line goes alone, and at most one chunk waits beyond the high-water mark. When the
 * reader goes away, `rows` is closed (its `finally` runs) before the stream reports closed.
 */
export function csvStream(columns: readonly string[], rows: AsyncIterable<readonly unknown[]>, chunkBytes = 64 * 1024): Readable {
  async function* chunks() {
    let chunk = csvLine(columns);
    for await (const row of rows) {
      chunk += csvLine(row);
      if (chunk.length >= chunkBytes) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk) yield chunk;
  }
  return Readable.from(chunks(), { objectMode: false, highWaterMark: chunkBytes });
}
