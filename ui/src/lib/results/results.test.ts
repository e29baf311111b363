import { afterEach, describe, expect, it, vi } from "vitest";
import type { FunnelRow } from "../backend/bindings/FunnelRow";
import { createFakeBackend, type FakeBackend } from "../backend/fake";
import { layout, niceMax, ticks } from "./chart";
import { ResultsStore, share } from "./results.svelte";

let fake: FakeBackend | null = null;
afterEach(() => {
  fake?.dispose();
  fake = null;
});

// Wednesday 4 March 2026, 15:00 in Chicago (the fake business's zone).
const NOW = Date.parse("2026-03-04T21:00:00Z");

function setup() {
  const b = (fake = createFakeBackend({ now: () => NOW }));
  const store = new ResultsStore(b, () => "America/Chicago", () => new Date(NOW));
  return { b, store };
}

const sum = (rows: FunnelRow[], k: keyof FunnelRow) => rows.reduce((n, r) => n + (r[k] as number), 0);

describe("ResultsStore on the fake backend", () => {
  it("asks for the preset's dates in the business's zone and gets one row per bucket", async () => {
    const { b, store } = setup();
    const spy = vi.spyOn(b, "resultsFunnel");
    await store.setPreset("this_week");
    expect(spy).toHaveBeenLastCalledWith({ from: "2026-03-02", to: "2026-03-04", bucket: "day" });
    expect(store.funnel?.rows.map((r) => r.start)).toEqual(["2026-03-02", "2026-03-03", "2026-03-04"]);

    await store.setPreset("last_4_weeks");
    await store.setBucket("week");
    expect(spy).toHaveBeenLastCalledWith({ from: "2026-02-05", to: "2026-03-04", bucket: "week" });
    const rows = store.funnel?.rows ?? [];
    expect(rows.map((r) => [r.start, r.end])).toEqual([
      ["2026-02-05", "2026-02-08"], ["2026-02-09", "2026-02-15"], ["2026-02-16", "2026-02-22"],
      ["2026-02-23", "2026-03-01"], ["2026-03-02", "2026-03-04"],
    ]);
    const t = store.funnel?.totals;
    expect(t?.missedCalls).toBeGreaterThan(0);
    for (const k of ["missedCalls", "textedBack", "replied", "booked", "jobValueCents", "bookedWithoutValue"] as const) {
      expect(t?.[k], k).toBe(sum(rows, k));
    }
    expect(t?.booked).toBeLessThanOrEqual(t?.replied ?? 0);
  });

  it("counts a new missed call today, and its booking as revenue recovered", async () => {
    const { b, store } = setup();
    await store.setPreset("this_week");
    const before = store.funnel?.rows.at(-1) as FunnelRow;
    const id = b.simulateMissedCall("+15125559876");
    await b.leadMarkBooked(id, 31_500);
    await store.load();
    const today = store.funnel?.rows.at(-1) as FunnelRow;
    expect(today.start).toBe("2026-03-04");
    expect(today.missedCalls).toBe(before.missedCalls + 1);
    expect(today.booked).toBe(before.booked + 1);
    expect(today.jobValueCents).toBe(before.jobValueCents + 31_500);
  });

  it("refuses a bad custom period without asking the backend, and shows the backend's refusal", async () => {
    const { b, store } = setup();
    const spy = vi.spyOn(b, "resultsFunnel");
    await store.setCustom("2026-03-10", "2026-03-01");
    expect(store.error).toMatch(/ends before it starts/);
    expect(spy).not.toHaveBeenCalled();
    spy.mockRejectedValueOnce({ code: "invalid_input", message: "to: too far" });
    await store.setCustom("2026-03-01", "2026-03-10");
    expect(store.error).toBe("to: too far");
    await store.load();
    expect(store.error).toBeNull();
    expect(store.funnel?.rows).toHaveLength(10);
  });

  it("starts custom dates from the period on screen and exports it as CSV", async () => {
    const { store } = setup();
    await store.setPreset("this_month");
    await store.setPreset("custom");
    expect([store.customFrom, store.customTo]).toEqual(["2026-03-01", "2026-03-04"]);
    const file = store.csv();
    expect(file?.name).toBe("textback-results-2026-03-01-to-2026-03-04.csv");
    expect(file?.text.split("\r\n")).toHaveLength(1 + 4 + 1 + 1);
  });

  it("rejects malformed dates in the fake as the shell does", async () => {
    const { b } = setup();
    await expect(b.resultsFunnel({ from: "03/01/2026", to: "2026-03-04", bucket: "day" })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(b.resultsFunnel({ from: "2025-01-01", to: "2026-03-04", bucket: "week" })).rejects.toMatchObject({ code: "invalid_input" });
  });
});

describe("chart geometry", () => {
  const row = (missedCalls: number, booked: number, jobValueCents: number): FunnelRow => ({
    start: "2026-03-02", end: "2026-03-02", missedCalls, textedBack: missedCalls, replied: booked, booked, jobValueCents, bookedWithoutValue: 0,
  });

  it("scales to a nice maximum with whole-number ticks", () => {
    expect([niceMax(0), niceMax(3), niceMax(7), niceMax(11), niceMax(48_000)]).toEqual([1, 5, 10, 20, 50_000]);
    expect(ticks(20)).toEqual([0, 5, 10, 15, 20]);
    expect(ticks(2)).toEqual([0, 1, 2]);
  });

  it("draws bars in proportion and a value line only when something was booked", () => {
    const l = layout([row(10, 2, 0), row(5, 1, 30_000)]);
    const missed = l.bars.filter((b) => b.stage === "missedCalls");
    expect(missed[0]?.height).toBeCloseTo(2 * (missed[1]?.height ?? 0));
    expect(l.bars).toHaveLength(8);
    expect(l.points).toHaveLength(2);
    expect(l.line.split(" ")).toHaveLength(2);
    expect(layout([row(3, 0, 0)]).line).toBe("");
    expect(layout([]).bars).toEqual([]);
  });

  it("shares are of the stage before, and a dash when there was nothing", () => {
    expect(share(3, 4)).toBe("75%");
    expect(share(0, 0)).toBe("–");
  });
});
