import { describe, expect, it } from "vitest";
import { visibleRange } from "./virtualRange";

describe("visibleRange", () => {
  it("renders only the rows in view plus overscan, however long the list", () => {
    const r = visibleRange(76 * 25_000, 760, 76, 50_000, 6);
    expect(r).toEqual({ start: 25_000 - 6, end: 25_000 + 11 + 6 });
    expect(r.end - r.start).toBeLessThan(30);
  });

  it("clamps at both ends", () => {
    expect(visibleRange(0, 760, 76, 50_000, 6).start).toBe(0);
    expect(visibleRange(76 * 49_999, 760, 76, 50_000, 6).end).toBe(50_000);
    expect(visibleRange(0, 760, 76, 3, 6)).toEqual({ start: 0, end: 3 });
    expect(visibleRange(100, 760, 76, 0, 6)).toEqual({ start: 0, end: 0 });
  });
});
