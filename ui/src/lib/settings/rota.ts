/** What the rota screen shows, from the desk's week view and "on shift now". No Svelte here. */
import type { OverrideKind } from "../backend/bindings/OverrideKind";
import type { RosterNow } from "../backend/bindings/RosterNow";
import type { RosterShift } from "../backend/bindings/RosterShift";
import type { RosterWeek } from "../backend/bindings/RosterWeek";
import type { RotaOverride } from "../backend/bindings/RotaOverride";

const DAY_NAMES: Record<string, string> = { mon: "Mon", tue: "Tue", wed: "Wed", thu: "Thu", fri: "Fri", sat: "Sat", sun: "Sun" };
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** The prominent line: who is on now, or who is paged instead. */
export function onShiftLine(now: RosterNow): string {
  const names = (people: RosterNow["people"]) =>
    people.map((p) => (p.until ? `${p.name} (until ${p.until})` : p.name)).join(", ");
  switch (now.via) {
    case "rota":
      return `On shift now: ${names(now.people)}`;
    case "override":
      return `On shift now: ${names(now.people)} (rota changed for today)`;
    case "on_call":
      return `Nobody on shift now. On call: ${names(now.people)}`;
    case "nobody":
      return now.owners.length
        ? `Nobody on shift or on call now. Urgent leads page the owner${now.owners.length > 1 ? "s" : ""}: ${now.owners.join(", ")}`
        : "Nobody on shift or on call now, and no owner to page: add an owner under Staff.";
  }
}

export type WeekEntry = {
  who: string;
  /** "08:00–17:00", "22:00–06:00", or "until 06:00" for the tail of last night's shift. */
  time: string;
  /** Starts this day and ends the next. */
  overnight: boolean;
  /** The morning part of the previous day's overnight shift. */
  carried: boolean;
  /** On now, in today's column (an overnight shift lights up the part running now). */
  onNow: boolean;
  /** "Covers Ben", "Extra shift", or null for the plain rota. */
  tag: string | null;
};

export type WeekColumn = {
  date: string;
  /** "Mon 9 Mar" */
  label: string;
  today: boolean;
  entries: WeekEntry[];
  off: { who: string; note: string | null }[];
  onCall: string | null;
};

function dayLabel(weekday: string, date: string): string {
  const [, m, d] = date.split("-").map(Number);
  return `${DAY_NAMES[weekday] ?? weekday} ${d ?? ""} ${MONTHS[(m ?? 1) - 1] ?? ""}`.trim();
}

const dash = (hours: string) => hours.replace("-", "–");
/** Runs into the next morning (a shift ending at midnight does not). */
const intoNextDay = (s: RosterShift) => s.overnight && !/-(24:00|00:00)$/.test(s.hours);

function tagOf(s: RosterShift): string | null {
  if (s.origin === "cover") return s.covers ? `Covers ${s.covers}` : "Cover";
  if (s.origin === "extra") return "Extra shift";
  return null;
}

/**
 * One column per day. An overnight shift shows on the day it starts ("22:00–06:00", marked
 * overnight) and again, as "until 06:00", at the top of the next day in the week.
 */
export function weekColumns(week: RosterWeek): WeekColumn[] {
  const columns: WeekColumn[] = week.days.map((d) => ({
    date: d.date,
    label: dayLabel(d.weekday, d.date),
    today: d.today,
    entries: d.shifts.map((s) => ({ who: s.who, time: dash(s.hours), overnight: intoNextDay(s), carried: false, onNow: s.onNow && d.today, tag: tagOf(s) })),
    off: d.off.map((a) => ({ who: a.who, note: a.note })),
    onCall: d.onCall,
  }));
  week.days.forEach((d, i) => {
    const next = columns[i + 1];
    if (!next) return;
    const carried = d.shifts
      .filter(intoNextDay)
      .map((s) => ({ who: s.who, time: `until ${s.hours.split("-")[1] ?? ""}`, overnight: false, carried: true, onNow: s.onNow && next.today, tag: tagOf(s) }));
    next.entries = [...carried, ...next.entries];
  });
  return columns;
}

/** Monday-first "YYYY-MM-DD" `n` weeks from `weekStart`. */
export function shiftWeek(weekStart: string, n: number): string {
  return new Date(Date.parse(`${weekStart}T00:00:00Z`) + n * 7 * 86_400_000).toISOString().slice(0, 10);
}

export const DAY_PRESETS: readonly [string, string][] = [
  ["mon-fri", "Weekdays"],
  ["sat,sun", "Weekends"],
  ["daily", "Every day"],
];

/** A new override of `kind`, keeping the person and date already chosen. */
export function overrideOfKind(o: RotaOverride, kind: OverrideKind): RotaOverride {
  return {
    kind,
    who: o.who,
    date: o.date,
    until: kind === "off" ? o.until : null,
    covers: kind === "cover" ? o.covers : null,
    hours: kind === "extra" ? (o.hours ?? "10:00-14:00") : null,
    note: o.note,
  };
}

/** Hours like "22:00-06:00" run past midnight. For a hint beside the input. */
export function isOvernight(hours: string): boolean {
  const m = /^\s*(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})\s*$/.exec(hours);
  if (!m) return false;
  const start = Number(m[1]) * 60 + Number(m[2]);
  const end = Number(m[3]) * 60 + Number(m[4]);
  return end !== 0 && end !== 1440 && end < start;
}
