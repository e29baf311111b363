/** The do-not-text screen's rules that need no Svelte: reading a picked file, labels, summaries. */
import type { DntImportResult } from "../backend/bindings/DntImportResult";
import type { DntNumber } from "../backend/bindings/DntNumber";

/** The most one import takes (the desk refuses more too). */
export const MAX_IMPORT_BYTES = 5 * 1024 * 1024;

/**
 * The text of a picked CSV file: UTF-16 when it starts with a UTF-16 byte-order mark (Excel's
 * "Unicode text"), else UTF-8, BOM dropped; bytes that are not UTF-8 become U+FFFD rather than
 * failing the file.
 */
export function decodeCsv(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder("utf-16le").decode(bytes);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder("utf-16be").decode(bytes);
  return new TextDecoder("utf-8").decode(bytes);
}

/** Where a number on the list came from, in words. */
export function sourceLabel(source: string | null): string {
  switch (source) {
    case "keyword":
      return "Texted STOP";
    case "provider_21610":
      return "Blocked by the carrier";
    case "staff":
      return "Added by hand";
    case "import":
    case null:
    case "":
      return "Imported";
    default:
      return `Imported (${source})`;
  }
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** "2 numbers added, 1 already on the list. 3 rows skipped (see below)." */
export function importSummary(r: DntImportResult): string {
  const parts = [plural(r.added, "number added", "numbers added")];
  if (r.alreadyListed) parts.push(`${r.alreadyListed} already on the list`);
  if (r.duplicatesMerged) parts.push(plural(r.duplicatesMerged, "repeated row merged", "repeated rows merged"));
  let text = `${parts.join(", ")}.`;
  if (r.rejected.length) text += ` ${plural(r.rejected.length, "row", "rows")} skipped (see below).`;
  if (r.warnings.length) text += ` ${plural(r.warnings.length, "row", "rows")} imported without a date.`;
  return text;
}

/** "do-not-text-2026-03-09.csv" */
export function exportFileName(now: Date): string {
  return `do-not-text-${now.toISOString().slice(0, 10)}.csv`;
}

/** Numbers matching a search by digits or by name. */
export function filterNumbers(list: DntNumber[], query: string): DntNumber[] {
  const q = query.trim().toLowerCase();
  if (!q) return list;
  const digits = q.replace(/\D/g, "");
  return list.filter((n) => (digits.length >= 3 && n.phone.includes(digits)) || (n.name ?? "").toLowerCase().includes(q));
}
