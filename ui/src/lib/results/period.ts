/**
 * Periods and buckets for the owner's results, as calendar dates ("2026-03-04") in the
 * business's time zone. Date arithmetic is on the dates themselves (as UTC days), so a DST
 * change never moves a day; only "today" depends on the zone.
 */
import type { FunnelBucket } from "../backend/bindings/FunnelBucket";

export type Preset = "this_week" | "last_4_weeks" | "this_month" | "custom";

export const PRESETS: { value: Preset; label: string }[] = [
  { value: "this_week", label: "This week" },
  { value: "last_4_weeks", label: "Last 4 weeks" },
  { value: "this_month", label: "This month" },
  { value: "custom", label: "Custom" },
];

/** The longest period the app answers for (the backend refuses longer ones too). */
export const MAX_DAYS = 366;

export type Period = { from: string; to: string };

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

function toUtcMs(date: string): number | null {
  const m = DATE.exec(date);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  // Rejects 2026-02-30 and friends, which Date would roll over.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null;
  return ms;
}

function fromUtcMs(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function isDate(date: string): boolean {
  return toUtcMs(date) !== null;
}

export function addDays(date: string, days: number): string {
  const ms = toUtcMs(date);
  if (ms === null) throw new Error(`not a date: ${date}`);
  return fromUtcMs(ms + days * DAY_MS);
}

/** Days from `from` to `to` (negative if `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  const a = toUtcMs(from);
  const b = toUtcMs(to);
  if (a === null || b === null) throw new Error(`not a date: ${a === null ? from : to}`);
  return Math.round((b - a) / DAY_MS);
}

/** 0 for Monday … 6 for Sunday. */
export function weekdayIndex(date: string): number {
  const ms = toUtcMs(date);
  if (ms === null) throw new Error(`not a date: ${date}`);
  return (new Date(ms).getUTCDay() + 6) % 7;
}

/** The calendar date of `instant` in `timeZone` (an unknown zone falls back to UTC). */
export function dateIn(timeZone: string | null, instant: Date): string {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat("en-US", {
      timeZone: timeZone ?? undefined, year: "numeric", month: "2-digit", day: "2-digit",
    }).formatToParts(instant);
  } catch {
    return fromUtcMs(Date.UTC(instant.getUTCFullYear(), instant.getUTCMonth(), instant.getUTCDate()));
  }
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${part("year")}-${part("month")}-${part("day")}`;
}

/**
 * The dates a preset covers, up to and including `today`. A custom period is checked:
 * the answer is a period or a message a person can act on.
 */
export function resolvePeriod(preset: Preset, today: string, custom?: Partial<Period>): Period | { error: string } {
  switch (preset) {
    case "this_week":
      return { from: addDays(today, -weekdayIndex(today)), to: today };
    case "last_4_weeks":
      return { from: addDays(today, -27), to: today };
    case "this_month":
      return { from: `${today.slice(0, 8)}01`, to: today };
    case "custom": {
      const from = custom?.from?.trim() ?? "";
      const to = custom?.to?.trim() ?? "";
      if (!isDate(from)) return { error: "Choose the first day of the period." };
      if (!isDate(to)) return { error: "Choose the last day of the period." };
      const days = daysBetween(from, to);
      if (days < 0) return { error: "The period ends before it starts: swap the dates." };
      if (days >= MAX_DAYS) return { error: `Choose at most ${MAX_DAYS} days.` };
      return { from, to };
    }
  }
}

/** Days for up to two months, weeks beyond (a readable number of bars). */
export function defaultBucket(period: Period): FunnelBucket {
  return daysBetween(period.from, period.to) < 62 ? "day" : "week";
}

/**
 * The buckets of a period, in order and without gaps: each day, or each Monday-to-Sunday
 * week cut to the period (the backend buckets the same way).
 */
export function buckets(from: string, to: string, bucket: FunnelBucket): Period[] {
  const out: Period[] = [];
  let start = from;
  while (daysBetween(start, to) >= 0) {
    const end = bucket === "day" ? start : addDays(start, 6 - weekdayIndex(start));
    const cut = daysBetween(end, to) < 0 ? to : end;
    out.push({ from: start, to: cut });
    start = addDays(cut, 1);
  }
  return out;
}

/** "Wed, Mar 4" for a day, "Mar 9 – 15" for a week, in the desk's language. The dates are
 * calendar dates, so they are formatted as UTC noon (no zone can move them to another day). */
export function bucketLabel(b: Period): string {
  const at = (d: string) => new Date(`${d}T12:00:00Z`);
  if (b.from === b.to) {
    return at(b.from).toLocaleDateString([], { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
  }
  return new Intl.DateTimeFormat([], { day: "numeric", month: "short", timeZone: "UTC" }).formatRange(at(b.from), at(b.to));
}
