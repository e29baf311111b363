import { describe, expect, it } from "vitest";
import type { Funnel } from "../backend/bindings/Funnel";
import { csvCell, csvFileName, dollars, funnelCsv } from "./csv";

describe("CSV export", () => {
  it("turns every cell a spreadsheet would run as a formula into text", () => {
    expect(csvCell("=HYPERLINK(\"http://evil.example\")")).toBe(`"'=HYPERLINK(""http://evil.example"")"`);
    expect(csvCell("+1 512 555 0123")).toBe("'+1 512 555 0123");
    expect(csvCell("-2+3")).toBe("'-2+3");
    expect(csvCell("@SUM(A1:A9)")).toBe("'@SUM(A1:A9)");
    expect(csvCell("\t=1+1")).toBe("'\t=1+1");
    expect(csvCell("\r=1+1")).toBe(`"'\r=1+1"`);
    // Not at the start: harmless, left alone.
    expect(csvCell("Pat = plumber")).toBe("Pat = plumber");
  });

  it("quotes commas, quotes and line breaks, and writes numbers plainly", () => {
    expect(csvCell("Rivera, Plumbing")).toBe(`"Rivera, Plumbing"`);
    expect(csvCell('the "big" job')).toBe(`"the ""big"" job"`);
    expect(csvCell("two\nlines")).toBe(`"two\nlines"`);
    expect(csvCell(42)).toBe("42");
    expect(csvCell(Number.NaN)).toBe("");
    expect(dollars(120_050)).toBe("1200.50");
    expect(dollars(5)).toBe("0.05");
    expect(dollars(0)).toBe("0.00");
  });

  it("writes a header, a line per bucket and the totals, with CRLF line ends", () => {
    const row = (start: string, end: string, n: number) => ({
      start, end, missedCalls: n, textedBack: n, replied: n - 1, booked: 1, jobValueCents: 25_050, bookedWithoutValue: 0,
    });
    const f: Funnel = {
      from: "2026-03-02", to: "2026-03-15", timeZone: "America/Chicago", bucket: "week",
      rows: [row("2026-03-02", "2026-03-08", 3), row("2026-03-09", "2026-03-15", 2)],
      totals: { ...row("2026-03-02", "2026-03-15", 5), replied: 3, booked: 2, jobValueCents: 50_100 },
    };
    const lines = funnelCsv(f).split("\r\n");
    expect(lines[0]).toBe("Period,From,To,Missed calls,Texted back,Replied,Booked,Booked without a job value,Job value (USD)");
    expect(lines[1]).toBe("week,2026-03-02,2026-03-08,3,3,2,1,0,250.50");
    expect(lines[3]).toBe("total,2026-03-02,2026-03-15,5,5,3,2,0,501.00");
    expect(lines.at(-1)).toBe("");
    expect(csvFileName(f)).toBe("textback-results-2026-03-02-to-2026-03-15.csv");
  });
});
