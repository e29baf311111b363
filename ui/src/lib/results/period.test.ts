import { describe, expect, it } from "vitest";
import { addDays, bucketLabel, buckets, dateIn, defaultBucket, resolvePeriod, weekdayIndex } from "./period";

describe("periods in the business's time zone", () => {
  it("takes today from the business's zone, not the desk's or UTC", () => {
    // 05:50 UTC on Wednesday 4 March is still Tuesday evening in Chicago, already Wednesday in Berlin.
    const instant = new Date("2026-03-04T05:50:00Z");
    expect(dateIn("America/Chicago", instant)).toBe("2026-03-03");
    expect(dateIn("Europe/Berlin", instant)).toBe("2026-03-04");
    expect(dateIn("Not/AZone", instant)).toBe("2026-03-04");
  });

  it("resolves the presets up to and including today", () => {
    // 2026-03-04 is a Wednesday.
    expect(weekdayIndex("2026-03-04")).toBe(2);
    expect(resolvePeriod("this_week", "2026-03-04")).toEqual({ from: "2026-03-02", to: "2026-03-04" });
    expect(resolvePeriod("this_week", "2026-03-08")).toEqual({ from: "2026-03-02", to: "2026-03-08" });
    expect(resolvePeriod("this_week", "2026-03-09")).toEqual({ from: "2026-03-09", to: "2026-03-09" });
    expect(resolvePeriod("last_4_weeks", "2026-03-04")).toEqual({ from: "2026-02-05", to: "2026-03-04" });
    expect(resolvePeriod("this_month", "2026-03-04")).toEqual({ from: "2026-03-01", to: "2026-03-04" });
    // Across a leap day and a year end.
    expect(addDays("2028-02-28", 1)).toBe("2028-02-29");
    expect(resolvePeriod("last_4_weeks", "2027-01-10")).toEqual({ from: "2026-12-14", to: "2027-01-10" });
  });

  it("checks custom dates and says what to fix", () => {
    expect(resolvePeriod("custom", "2026-03-04", { from: "2026-01-01", to: "2026-01-31" })).toEqual({ from: "2026-01-01", to: "2026-01-31" });
    expect(resolvePeriod("custom", "2026-03-04", { from: "", to: "2026-01-31" })).toEqual({ error: "Choose the first day of the period." });
    expect(resolvePeriod("custom", "2026-03-04", { from: "2026-02-30", to: "2026-03-01" })).toEqual({ error: "Choose the first day of the period." });
    expect(resolvePeriod("custom", "2026-03-04", { from: "2026-03-02", to: "2026-03-01" })).toMatchObject({ error: expect.stringMatching(/ends before it starts/) });
    expect(resolvePeriod("custom", "2026-03-04", { from: "2025-01-01", to: "2026-03-01" })).toMatchObject({ error: expect.stringMatching(/366 days/) });
  });

  it("buckets by day, or by Monday-to-Sunday weeks cut to the period, without gaps", () => {
    expect(buckets("2026-03-04", "2026-03-17", "week")).toEqual([
      { from: "2026-03-04", to: "2026-03-08" },
      { from: "2026-03-09", to: "2026-03-15" },
      { from: "2026-03-16", to: "2026-03-17" },
    ]);
    const days = buckets("2026-02-27", "2026-03-02", "day");
    expect(days.map((d) => d.from)).toEqual(["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"]);
    expect(buckets("2026-03-09", "2026-03-09", "week")).toEqual([{ from: "2026-03-09", to: "2026-03-09" }]);
    // A DST change (8 March in the US) is just another day.
    expect(buckets("2026-03-07", "2026-03-09", "day")).toHaveLength(3);
    expect(defaultBucket({ from: "2026-01-01", to: "2026-02-28" })).toBe("day");
    expect(defaultBucket({ from: "2026-01-01", to: "2026-06-30" })).toBe("week");
  });

  it("labels a day and a week by their dates", () => {
    expect(bucketLabel({ from: "2026-03-04", to: "2026-03-04" })).toMatch(/4/);
    expect(bucketLabel({ from: "2026-03-09", to: "2026-03-15" })).toMatch(/9.*15/);
    expect(bucketLabel({ from: "2026-03-30", to: "2026-04-05" })).toMatch(/30.*5/);
  });
});
