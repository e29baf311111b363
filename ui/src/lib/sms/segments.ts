/**
 * SMS segment counting, mirroring the Rust `MessageBody` rules so the reply box can show
 * the count live without a round trip:
 * - GSM-7 when every character is in the GSM 03.38 basic set or its extension table;
 *   extension characters (^ { } \ [ ~ ] | €) take an escape plus the character: 2 units.
 *   One segment holds 160 units; a multipart message holds 153 per segment.
 * - Otherwise UCS-2, counted in UTF-16 code units (astral characters such as most emoji
 *   are a surrogate pair: 2 units). One segment holds 70; multipart 67 per segment.
 */
import type { SegmentInfo } from "../backend/bindings/SegmentInfo";

const GSM7_BASIC = new Set(
  Array.from(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
      "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà",
  ),
);
const GSM7_EXTENSION = new Set(Array.from("^{}\\[~]|€"));

export const GSM7_SINGLE = 160;
export const GSM7_MULTI = 153;
export const UCS2_SINGLE = 70;
export const UCS2_MULTI = 67;

export function countSegments(body: string): SegmentInfo {
  let gsmUnits = 0;
  let gsm = true;
  for (const ch of body) {
    if (GSM7_BASIC.has(ch)) gsmUnits += 1;
    else if (GSM7_EXTENSION.has(ch)) gsmUnits += 2;
    else {
      gsm = false;
      break;
    }
  }
  if (gsm) return { encoding: "gsm7", units: gsmUnits, segments: segmentsFor(gsmUnits, GSM7_SINGLE, GSM7_MULTI) };
  // JS strings are UTF-16 already: `length` counts a surrogate pair as 2 units.
  const units = body.length;
  return { encoding: "ucs2", units, segments: segmentsFor(units, UCS2_SINGLE, UCS2_MULTI) };
}

function segmentsFor(units: number, single: number, multi: number): number {
  if (units === 0) return 0;
  if (units <= single) return 1;
  return Math.ceil(units / multi);
}

/** Units still free in the current segment, for "12 left" style hints. */
export function unitsLeft(info: SegmentInfo): number {
  const single = info.encoding === "gsm7" ? GSM7_SINGLE : UCS2_SINGLE;
  const multi = info.encoding === "gsm7" ? GSM7_MULTI : UCS2_MULTI;
  if (info.segments <= 1) return single - info.units;
  return info.segments * multi - info.units;
}

/** First character that forces UCS-2, to tell the user why the limit dropped to 70. */
export function firstNonGsmChar(body: string): string | null {
  for (const ch of body) {
    if (!GSM7_BASIC.has(ch) && !GSM7_EXTENSION.has(ch)) return ch;
  }
  return null;
}
