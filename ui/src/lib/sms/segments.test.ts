import { describe, expect, it } from "vitest";
import { countSegments, firstNonGsmChar, unitsLeft } from "./segments";

describe("countSegments (mirrors the Rust MessageBody rules)", () => {
  it("fits exactly 160 GSM-7 characters in one SMS and splits at 161", () => {
    expect(countSegments("a".repeat(160))).toEqual({ encoding: "gsm7", units: 160, segments: 1 });
    // Multipart GSM-7 carries 153 per part (7 go to the concatenation header): 161 → 2 parts.
    expect(countSegments("a".repeat(161))).toEqual({ encoding: "gsm7", units: 161, segments: 2 });
    expect(countSegments("a".repeat(306)).segments).toBe(2);
    expect(countSegments("a".repeat(307)).segments).toBe(3);
  });

  it("fits exactly 70 UCS-2 units in one SMS and splits at 71", () => {
    const ucs = "ж"; // Cyrillic: outside GSM-7, one UTF-16 unit
    expect(countSegments(ucs.repeat(70))).toEqual({ encoding: "ucs2", units: 70, segments: 1 });
    expect(countSegments(ucs.repeat(71))).toEqual({ encoding: "ucs2", units: 71, segments: 2 });
    // Multipart UCS-2 carries 67 per part.
    expect(countSegments(ucs.repeat(134)).segments).toBe(2);
    expect(countSegments(ucs.repeat(135)).segments).toBe(3);
  });

  it("counts the GSM-7 extension characters ^{}\\[~]|€ as two units each", () => {
    for (const ch of ["^", "{", "}", "\\", "[", "~", "]", "|", "€"]) {
      expect(countSegments(ch), ch).toEqual({ encoding: "gsm7", units: 2, segments: 1 });
    }
    // 80 braces are 160 units: still one SMS; one more character tips it to two.
    expect(countSegments("{".repeat(80))).toEqual({ encoding: "gsm7", units: 160, segments: 1 });
    expect(countSegments("{".repeat(80) + "a")).toEqual({ encoding: "gsm7", units: 161, segments: 2 });
  });

  it("keeps GSM-7 for accented letters in the basic set (é, ñ, ü) instead of switching to UCS-2", () => {
    expect(countSegments("Café mañana über")).toMatchObject({ encoding: "gsm7", units: 16 });
  });

  it("switches to UCS-2 for an emoji and counts astral characters as two UTF-16 units", () => {
    expect(countSegments("ok 👍")).toEqual({ encoding: "ucs2", units: 5, segments: 1 });
    // 35 emoji = 70 units: one SMS. 36 = 72 units: two.
    expect(countSegments("😀".repeat(35))).toEqual({ encoding: "ucs2", units: 70, segments: 1 });
    expect(countSegments("😀".repeat(36))).toEqual({ encoding: "ucs2", units: 72, segments: 2 });
  });

  it("drops a whole 160-character message to UCS-2 when one character is outside GSM-7", () => {
    const body = "a".repeat(159) + "’"; // a curly apostrophe, as phones autocorrect
    expect(countSegments(body)).toEqual({ encoding: "ucs2", units: 160, segments: 3 });
    expect(firstNonGsmChar(body)).toBe("’");
  });

  it("counts an empty body as no SMS at all", () => {
    expect(countSegments("")).toEqual({ encoding: "gsm7", units: 0, segments: 0 });
  });

  it("reports the room left in the current segment", () => {
    expect(unitsLeft(countSegments("a".repeat(150)))).toBe(10);
    expect(unitsLeft(countSegments("a".repeat(161)))).toBe(306 - 161);
    expect(unitsLeft(countSegments("ж".repeat(60)))).toBe(10);
  });
});
