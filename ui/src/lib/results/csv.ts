/**
 * The results as a CSV file for a spreadsheet (RFC 4180: quoted where needed, CRLF lines).
 * Every text cell is made safe from formula injection: a spreadsheet runs a cell that starts
 * with = + - @ (or a tab or carriage return before one) as a formula, so such a cell gets a
 * leading apostrophe and is shown as the text it is.
 */
import type { Funnel } from "../backend/bindings/Funnel";
import type { FunnelRow } from "../backend/bindings/FunnelRow";

const FORMULA_START = /^[=+\-@\t\r]/;

/** One cell: formula-safe, quoted if it holds a comma, quote or line break. */
export function csvCell(value: string | number): string {
  if (typeof value === "number") {
    // Our numbers are counts and amounts; anything else would be a bug, never a formula.
    return Number.isFinite(value) ? String(value) : "";
  }
  let text = value;
  if (FORMULA_START.test(text)) text = `'${text}`;
  if (/[",\r\n]/.test(text)) text = `"${text.replace(/"/g, '""')}"`;
  return text;
}

export function csvLine(cells: (string | number)[]): string {
  return cells.map(csvCell).join(",");
}

/** Cents as a plain decimal ("1234.50"), which spreadsheets read as a number. */
export function dollars(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(Math.round(cents));
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

const HEADER = [
  "Period", "From", "To", "Missed calls", "Texted back", "Replied", "Booked",
  "Booked without a job value", "Job value (USD)",
];

function line(kind: string, r: FunnelRow): string {
  return csvLine([
    kind, r.start, r.end, r.missedCalls, r.textedBack, r.replied, r.booked,
    r.bookedWithoutValue, dollars(r.jobValueCents),
  ]);
}

/** The whole funnel: a header, one line per day or week, and the totals. */
export function funnelCsv(f: Funnel): string {
  const lines = [csvLine(HEADER), ...f.rows.map((r) => line(f.bucket, r)), line("total", f.totals)];
  return `${lines.join("\r\n")}\r\n`;
}

/** "textback-results-2026-03-01-to-2026-03-28.csv" */
export function csvFileName(f: Funnel): string {
  const safe = (s: string) => s.replace(/[^0-9-]/g, "");
  return `textback-results-${safe(f.from)}-to-${safe(f.to)}.csv`;
}
