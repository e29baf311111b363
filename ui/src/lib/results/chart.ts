/**
 * Geometry for the results chart: grouped bars for the funnel's counts per bucket and a line
 * for the job value, on a fixed viewBox the SVG scales. Pure, so it is tested without a DOM.
 */
import type { FunnelRow } from "../backend/bindings/FunnelRow";

export type Stage = "missedCalls" | "textedBack" | "replied" | "booked";

export const STAGES: { key: Stage; label: string; color: string }[] = [
  { key: "missedCalls", label: "Missed calls", color: "var(--muted)" },
  { key: "textedBack", label: "Texted back", color: "var(--accent)" },
  { key: "replied", label: "Replied", color: "var(--warn)" },
  { key: "booked", label: "Booked", color: "var(--ok)" },
];

/** The job value line. */
export const VALUE_COLOR = "var(--demo)";

export const WIDTH = 760;
export const HEIGHT = 260;
export const PAD = { top: 12, right: 64, bottom: 28, left: 40 };

/** The smallest "nice" number (1, 2, 5 × 10ⁿ) at or above `n`; 1 for nothing. */
export function niceMax(n: number): number {
  if (!(n > 0)) return 1;
  const exp = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 5, 10]) if (step * exp >= n) return step * exp;
  return 10 * exp;
}

/** Evenly spaced ticks from 0 to `max` (inclusive), at most `count` + 1 of them, whole numbers. */
export function ticks(max: number, count = 4): number[] {
  const step = Math.max(1, Math.ceil(max / count));
  const out: number[] = [];
  for (let v = 0; v <= max; v += step) out.push(v);
  return out;
}

export type Bar = { stage: Stage; x: number; y: number; width: number; height: number; value: number };
export type Layout = {
  bars: Bar[];
  /** Job value per bucket, as SVG points "x,y x,y …" (empty when nothing was booked). */
  line: string;
  points: { x: number; y: number; cents: number }[];
  countMax: number;
  centsMax: number;
  /** Centre of each bucket along x. */
  centres: number[];
  /** Show every `labelEvery`-th bucket's label so they do not overlap. */
  labelEvery: number;
  y: (count: number) => number;
  yCents: (cents: number) => number;
};

export function layout(rows: FunnelRow[]): Layout {
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const n = Math.max(1, rows.length);
  const slot = plotW / n;
  const groupW = slot * 0.8;
  const barW = groupW / STAGES.length;
  const countMax = niceMax(Math.max(0, ...rows.flatMap((r) => STAGES.map((s) => r[s.key]))));
  const centsMax = niceMax(Math.max(0, ...rows.map((r) => r.jobValueCents)));
  const y = (v: number) => PAD.top + plotH - (v / countMax) * plotH;
  const yCents = (v: number) => PAD.top + plotH - (v / centsMax) * plotH;
  const centres = rows.map((_, i) => PAD.left + slot * i + slot / 2);
  const bars: Bar[] = rows.flatMap((r, i) =>
    STAGES.map((s, j) => {
      const value = r[s.key];
      const top = y(value);
      return { stage: s.key, x: PAD.left + slot * i + (slot - groupW) / 2 + barW * j, y: top, width: barW, height: PAD.top + plotH - top, value };
    }),
  );
  const points = rows.map((r, i) => ({ x: centres[i] as number, y: yCents(r.jobValueCents), cents: r.jobValueCents }));
  const anyValue = rows.some((r) => r.jobValueCents > 0);
  return {
    bars,
    line: anyValue ? points.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ") : "",
    points: anyValue ? points : [],
    countMax,
    centsMax,
    centres,
    labelEvery: Math.max(1, Math.ceil(n / 12)),
    y,
    yCents,
  };
}
