/**
 * The fake backend's lead-lifecycle half: default follow-up, sending-hours, escalation,
 * compliance and rota settings, their validation (errors name the config key, as the desk's
 * do), the rota's week view and "on shift now", and the do-not-text list with CSV import and
 * export. Behaves like the IPC contract, not like the Rust rules in every corner.
 */
import type { DntImportResult } from "./bindings/DntImportResult";
import type { DntNumber } from "./bindings/DntNumber";
import type { DntRowIssue } from "./bindings/DntRowIssue";
import type { OnShiftVia } from "./bindings/OnShiftVia";
import type { RosterDay } from "./bindings/RosterDay";
import type { RosterNow } from "./bindings/RosterNow";
import type { RosterShift } from "./bindings/RosterShift";
import type { RosterWeek } from "./bindings/RosterWeek";
import type { RotaOverride } from "./bindings/RotaOverride";
import type { Settings } from "./bindings/Settings";
import type { StaffMember } from "./bindings/StaffMember";
import { ipcError } from "./errors";

type Lifecycle = Pick<Settings, "followup" | "sendingHours" | "escalation" | "compliance" | "shifts">;

export function defaultLifecycleSettings(staff: readonly string[]): Lifecycle {
  const [first = "Owner", second = first, third = second] = staff;
  return {
    followup: {
      enabled: true,
      touches: [
        { delay: "2h", snap: "none", businessHours: false, template: "Hi {first_name}, just checking in from {business_name}. Still need a hand? Book here: {booking_link}" },
        { delay: "0s", snap: "next_business_day", businessHours: true, template: "Hi {first_name}, {business_name} here one last time. Reply or book: {booking_link}" },
      ],
      maxTouches: 10,
    },
    sendingHours: { enabled: true, window: "08:00-21:00", stateRules: true, textback: false },
    escalation: {
      enabled: true,
      unansweredEnabled: true, unansweredBusinessHours: "5m", unansweredAfterHours: "15m",
      unbookedEnabled: true, unbookedAfter: "1d",
      urgentEnabled: true, urgentWords: ["emergency", "flood", "burst", "no heat", "gas leak", "locked out"],
      repeatEvery: "5m", maxPages: 6, backupAfter: "10m", backup: [],
    },
    compliance: {
      confirmOptOut: "auto",
      optOutConfirmation: "{business_name}: you are unsubscribed and will get no more texts from us. Reply START to resubscribe.",
      help: "auto",
      helpReply: "{business_name}: for help, reply to this text or call this number. Msg & data rates may apply. Reply STOP to opt out.",
      helpInterval: "1d",
    },
    shifts: {
      rota: [
        { who: first, days: "mon,tue,wed,thu,fri", hours: "08:00-17:00" },
        { who: second, days: "sat", hours: "09:00-12:00" },
        { who: third, days: "fri,sat,sun", hours: "22:00-06:00" },
      ],
      overrides: [],
      onCall: first,
    },
  };
}

// --- Parsing --------------------------------------------------------------------------------

const DAY_KEYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;

function bad(path: string, message: string): never {
  throw ipcError("invalid_input", `${path}: ${message}`);
}

const DURATION = /^(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?$/i;

/** Seconds in "1h30m", "90s", "2d"; null when unreadable. */
export function durationSecs(raw: string): number | null {
  const m = DURATION.exec(raw.trim());
  if (!m || !raw.trim()) return null;
  const [d, h, mi, s] = [m[1], m[2], m[3], m[4]].map((x) => Number(x ?? 0)) as [number, number, number, number];
  return ((d * 24 + h) * 60 + mi) * 60 + s;
}

function duration(path: string, raw: string): number {
  const secs = durationSecs(raw);
  if (secs === null) bad(path, `"${raw.trim()}" is not a duration; write it like 90s, 15m, 2h or 7d`);
  if (secs > 366 * 86_400) bad(path, `"${raw.trim()}" is too long; the most is "366d"`);
  return secs;
}

/** Minutes from midnight of "08:30"; 24:00 allowed only where `end` is true. */
function hhmm(raw: string, end: boolean): number | null {
  const m = /^\s*(\d{2}):(\d{2})\s*$/.exec(raw);
  if (!m) return null;
  const [h, mi] = [Number(m[1]), Number(m[2])];
  if (end && h === 24 && mi === 0) return 1440;
  if (h > 23 || mi > 59) return null;
  return h * 60 + mi;
}

/** [start, end) minutes; end > 1440 for a shift that runs into the next day. */
export function parseShiftHours(raw: string): [number, number] | null {
  const [a, b, extra] = raw.split("-");
  if (a === undefined || b === undefined || extra !== undefined) return null;
  const start = hhmm(a, false);
  let end = hhmm(b, true);
  if (start === null || end === null) return null;
  if (end === 0) end = 1440;
  if (end === start) return null;
  return [start, end <= start ? end + 1440 : end];
}

/** Monday-first day indexes of "mon-fri", "sat,sun", "fri-mon" or "daily". */
export function parseDays(raw: string): Set<number> | null {
  const s = raw.trim().toLowerCase();
  if (s === "daily") return new Set([0, 1, 2, 3, 4, 5, 6]);
  const out = new Set<number>();
  for (const part of s.split(",")) {
    const [a, b] = part.split("-").map((x) => DAY_KEYS.indexOf(x.trim().slice(0, 3) as (typeof DAY_KEYS)[number]));
    if (a === undefined || a < 0 || (b !== undefined && b < 0)) return null;
    const last = b ?? a;
    for (let d = a; ; d = (d + 1) % 7) {
      out.add(d);
      if (d === last) break;
    }
  }
  return out.size ? out : null;
}

const isDate = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s.trim()) && !Number.isNaN(Date.parse(`${s.trim()}T00:00:00Z`));

// --- Validation -----------------------------------------------------------------------------

/** Throws `invalid_input` naming the key, like the desk; `templateError` checks a template. */
export function validateLifecycle(next: Settings, templateError: (t: string) => string | null, parsePhone: (raw: string) => void): void {
  const f = next.followup;
  if (f.touches.length + 1 > f.maxTouches) {
    bad("followup.touches", `the sequence has ${f.touches.length + 1} touches counting the text-back; the most is ${f.maxTouches}`);
  }
  f.touches.forEach((t, i) => {
    if (duration(`followup.touches[${i}].delay`, t.delay) > 30 * 86_400) bad(`followup.touches[${i}].delay`, "the longest wait between touches is 30d");
    const e = templateError(t.template);
    if (e) bad(`followup.touches[${i}].template`, e);
  });
  const w = next.sendingHours.window.split("-");
  const [open, close] = [hhmm(w[0] ?? "", false), hhmm(w[1] ?? "", true)];
  if (w.length !== 2 || open === null || close === null || close <= open) {
    bad("sending_hours.window", `"${next.sendingHours.window}" is not a window; write it like 08:00-21:00`);
  }

  const staffNames = validateStaff(next.staff, parsePhone);
  const known = (n: string) => staffNames.includes(n.trim().toLowerCase());

  const e = next.escalation;
  duration("escalation.unanswered.business_hours", e.unansweredBusinessHours);
  duration("escalation.unanswered.after_hours", e.unansweredAfterHours);
  duration("escalation.unbooked.after", e.unbookedAfter);
  duration("escalation.backup_after", e.backupAfter);
  if (duration("escalation.repeat_every", e.repeatEvery) < 10) bad("escalation.repeat_every", `must be at least 10s, got "${e.repeatEvery}"`);
  if (!Number.isInteger(e.maxPages) || e.maxPages < 1 || e.maxPages > 50) bad("escalation.max_pages", `must be between 1 and 50, got ${e.maxPages}`);
  for (const b of e.backup) if (b.trim() && !known(b)) bad("escalation.backup", `names "${b}", who is not on the staff list`);

  const c = next.compliance;
  const ce = templateError(c.optOutConfirmation);
  if (ce) bad("compliance.opt_out_confirmation", ce);
  if (c.optOutConfirmation.includes("{booking_link}")) bad("compliance.opt_out_confirmation", "must not carry {booking_link}: an opt-out confirmation may not market");
  const he = templateError(c.helpReply);
  if (he) bad("compliance.help_reply", he);
  if (!c.helpReply.toUpperCase().includes("STOP")) bad("compliance.help_reply", 'must tell people how to opt out; add "Reply STOP to opt out."');
  duration("compliance.help_interval", c.helpInterval);

  next.shifts.rota.forEach((r, i) => {
    if (!r.who.trim()) bad(`shifts.rota[${i}].who`, "choose a person");
    if (!parseDays(r.days)) bad(`shifts.rota[${i}].days`, `"${r.days}" is not a list of days; write it like mon, mon-fri, sat,sun or fri-mon`);
    if (!parseShiftHours(r.hours)) bad(`shifts.rota[${i}].hours`, `"${r.hours}" is not shift hours; write them like 08:00-17:00 or 22:00-06:00 (overnight)`);
    if (!known(r.who)) throw ipcError("invalid_input", `shifts.rota[${i}].who names "${r.who.trim()}", who is not on the staff list`);
  });
  next.shifts.overrides.forEach((o, i) => validateOverride(o, i, known));
  const onCall = next.shifts.onCall?.trim();
  if (onCall && !known(onCall)) throw ipcError("invalid_input", `shifts.on_call names "${onCall}", who is not on the staff list`);
}

/** Lower-cased names; throws for a missing or repeated name or a bad phone. */
function validateStaff(staff: StaffMember[], parsePhone: (raw: string) => void): string[] {
  const names: string[] = [];
  staff.forEach((m, i) => {
    const name = m.name.trim().toLowerCase();
    if (!name) bad(`staff[${i}].name`, "every person needs a name; fill it in or remove the row");
    if (names.includes(name)) bad(`staff[${i}].name`, `two staff members are called "${m.name.trim()}"; names must differ`);
    names.push(name);
    if (m.phone?.trim()) {
      try {
        parsePhone(m.phone);
      } catch {
        bad(`staff[${i}].phone`, `"${m.phone}" is not a phone number we can text`);
      }
    }
  });
  return names;
}

function validateOverride(o: RotaOverride, i: number, known: (n: string) => boolean) {
  const path = (k: string) => `shifts.overrides[${i}].${k}`;
  if (!o.who.trim()) bad(path("who"), "choose a person");
  if (!isDate(o.date)) bad(path("date"), `"${o.date}" is not a date; write it like 2026-03-09`);
  if (!known(o.who)) throw ipcError("invalid_input", `${path("who")} names "${o.who.trim()}", who is not on the staff list`);
  if (o.kind === "off" && o.until?.trim()) {
    if (!isDate(o.until)) bad(path("to"), `"${o.until}" is not a date; write it like 2026-03-09`);
    if (o.until.trim() < o.date.trim()) bad(path("to"), `the days off run from ${o.date} to ${o.until}, which is backwards`);
  }
  if (o.kind === "cover") {
    const covers = o.covers?.trim() ?? "";
    if (!covers) bad(path("for"), "choose a person");
    if (!known(covers)) throw ipcError("invalid_input", `${path("for")} names "${covers}", who is not on the staff list`);
    if (covers.toLowerCase() === o.who.trim().toLowerCase()) bad(path("for"), `${o.who} cannot cover for themselves`);
  }
  if (o.kind === "extra" && !parseShiftHours(o.hours ?? "")) bad(path("hours"), `"${o.hours ?? ""}" is not shift hours; write them like 10:00-14:00`);
}

// --- Time in the business's zone ------------------------------------------------------------

type Local = { date: string; minutes: number };

function localOf(ms: number, tz: string): Local {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).formatToParts(new Date(ms));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "00";
  return { date: `${get("year")}-${get("month")}-${get("day")}`, minutes: Number(get("hour")) * 60 + Number(get("minute")) };
}

function addDays(date: string, n: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

/** 0 = Monday. */
const weekdayOf = (date: string) => (new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7;

/** The instant a wall-clock time in `tz` names (minutes may pass 1440: the next day). */
function instant(date: string, minutes: number, tz: string): number {
  const guess = Date.parse(`${date}T00:00:00Z`) + minutes * 60_000;
  let ms = guess;
  for (let i = 0; i < 2; i++) {
    const l = localOf(ms, tz);
    const shown = Date.parse(`${l.date}T00:00:00Z`) + l.minutes * 60_000;
    ms += guess - shown;
  }
  return ms;
}

// --- The rota -------------------------------------------------------------------------------

type Worked = { who: string; date: string; hours: string; start: number; end: number; origin: RosterShift["origin"]; covers: string | null };

function same(a: string, b: string) {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

class Rota {
  constructor(private readonly s: Settings) {}

  off(who: string, date: string): RotaOverride | undefined {
    return this.s.shifts.overrides.find((o) => o.kind === "off" && same(o.who, who) && o.date <= date && date <= (o.until?.trim() || o.date));
  }

  coverFor(who: string, date: string): string | null {
    return this.s.shifts.overrides.find((o) => o.kind === "cover" && o.date === date && same(o.covers ?? "", who))?.who ?? null;
  }

  worked(who: string, date: string, hours: string, origin: Worked["origin"], covers: string | null): Worked | null {
    const h = parseShiftHours(hours);
    if (!h) return null;
    const tz = this.s.timeZone;
    return { who, date, hours, start: instant(date, h[0], tz), end: instant(date, h[1], tz), origin, covers };
  }

  planned(date: string): Worked[] {
    return this.s.shifts.rota
      .filter((r) => parseDays(r.days)?.has(weekdayOf(date)))
      .flatMap((r) => this.worked(r.who, date, r.hours, "rota", null) ?? []);
  }

  shiftsOn(date: string): Worked[] {
    const out: Worked[] = [];
    for (const r of this.s.shifts.rota) {
      if (!parseDays(r.days)?.has(weekdayOf(date)) || this.off(r.who, date)) continue;
      const by = this.coverFor(r.who, date);
      const w = by ? this.worked(by, date, r.hours, "cover", r.who) : this.worked(r.who, date, r.hours, "rota", null);
      if (w) out.push(w);
    }
    for (const o of this.s.shifts.overrides) {
      if (o.kind === "extra" && o.date === date) {
        const w = this.worked(o.who, date, o.hours ?? "", "extra", null);
        if (w) out.push(w);
      }
    }
    return out.sort((a, b) => a.start - b.start || a.who.localeCompare(b.who));
  }

  onCall(date: string): string | null {
    const planned = this.s.shifts.onCall?.trim();
    if (!planned) return null;
    const who = this.coverFor(planned, date) ?? planned;
    return this.off(who, date) ? null : who;
  }
}

const toIso = (ms: number) => new Date(ms).toISOString();

export function fakeRosterWeek(s: Settings, nowMs: number, weekStart: string | null): RosterWeek {
  if (weekStart !== null && !isDate(weekStart)) bad("weekStart", `"${weekStart}" is not a date; write it like 2026-03-09`);
  const rota = new Rota(s);
  const today = localOf(nowMs, s.timeZone).date;
  const start = weekStart ?? addDays(today, -weekdayOf(today));
  const days: RosterDay[] = [];
  for (let i = 0; i < 7; i++) {
    const date = addDays(start, i);
    days.push({
      date,
      weekday: DAY_KEYS[weekdayOf(date)] ?? "mon",
      today: date === today,
      shifts: rota.shiftsOn(date).map((w) => ({
        who: w.who, hours: w.hours, overnight: w.end - w.start > 0 && localOf(w.end, s.timeZone).date !== date,
        startsAt: toIso(w.start), endsAt: toIso(w.end), origin: w.origin, covers: w.covers,
        onNow: w.start <= nowMs && nowMs < w.end,
      })),
      off: s.staff.flatMap((m) => {
        const o = rota.off(m.name, date);
        return o ? [{ who: m.name, note: o.note }] : [];
      }),
      onCall: rota.onCall(date),
    });
  }
  return { weekStart: start, timeZone: s.timeZone, days };
}

function untilLabel(endMs: number, today: string, tz: string): string {
  const l = localOf(endMs, tz);
  const time = `${String(Math.floor(l.minutes / 60)).padStart(2, "0")}:${String(l.minutes % 60).padStart(2, "0")}`;
  if (l.date === addDays(today, 1) && l.minutes === 0) return "midnight";
  if (l.date === today) return time;
  return l.date === addDays(today, 1) ? `${time} tomorrow` : `${time} on ${l.date}`;
}

export function fakeRosterNow(s: Settings, nowMs: number): RosterNow {
  const rota = new Rota(s);
  const tz = s.timeZone;
  const today = localOf(nowMs, tz).date;
  const days = [addDays(today, -1), today];
  const on = (ws: Worked[]) => ws.filter((w) => w.start <= nowMs && nowMs < w.end);
  const running = on(days.flatMap((d) => rota.shiftsOn(d)));
  const names: string[] = [];
  for (const w of running) if (!names.some((n) => same(n, w.who))) names.push(w.who);
  const member = (n: string) => s.staff.find((m) => same(m.name, n));
  let via: OnShiftVia;
  let people: RosterNow["people"];
  if (names.length) {
    const planned = on(days.flatMap((d) => rota.planned(d))).map((w) => w.who);
    via = planned.length === names.length && planned.every((p, i) => same(p, names[i] ?? "")) ? "rota" : "override";
    people = names.map((n) => ({
      name: member(n)?.name ?? n,
      role: member(n)?.role ?? "staff",
      until: untilLabel(Math.max(...running.filter((w) => same(w.who, n)).map((w) => w.end)), today, tz),
    }));
  } else {
    const onCall = rota.onCall(today);
    via = onCall ? "on_call" : "nobody";
    people = onCall ? [{ name: member(onCall)?.name ?? onCall, role: member(onCall)?.role ?? "staff", until: null }] : [];
  }
  return { at: toIso(nowMs), timeZone: tz, people, via, owners: s.staff.filter((m) => m.role === "owner").map((m) => m.name) };
}

// --- The do-not-text list -------------------------------------------------------------------

const MAX_CSV_BYTES = 5 * 1024 * 1024;
const PHONE_HEADERS = ["phone", "phonenumber", "number", "mobile", "cell", "telephone", "tel", "e164"];

/** Number as E.164, US/Canada when it has no country code; null if unreadable. */
export function e164(raw: string): string | null {
  const digits = raw.trim().replace(/^tel:/, "").replace(/[\s().-]/g, "");
  if (/^\d{10}$/.test(digits)) return `+1${digits}`;
  if (/^1\d{10}$/.test(digits)) return `+${digits}`;
  if (/^\+[1-9]\d{7,14}$/.test(digits)) return digits;
  return null;
}

/** Records of an RFC 4180 file, each with the line it starts on; null fields mark an unclosed quote. */
function records(text: string): { line: number; fields: string[] | null }[] {
  const out: { line: number; fields: string[] | null }[] = [];
  const rows = text.replace(/^\uFEFF/, "");
  let i = 0;
  let line = 1;
  while (i < rows.length) {
    const startLine = line;
    const startI = i;
    const fields: string[] = [];
    let field = "";
    let unclosed = false;
    for (;;) {
      const c = rows[i];
      if (c === undefined) break;
      if (c === '"' && field === "") {
        let j = i + 1;
        let closed = false;
        let lines = 0;
        while (j < rows.length) {
          if (rows[j] === '"') {
            if (rows[j + 1] === '"') { field += '"'; j += 2; continue; }
            closed = true;
            j++;
            break;
          }
          if (rows[j] === "\n") lines++;
          if (lines > 20) break;
          field += rows[j];
          j++;
        }
        if (!closed) { unclosed = true; break; }
        i = j;
        continue;
      }
      if (c === ",") { fields.push(field); field = ""; i++; continue; }
      if (c === "\r" || c === "\n") {
        i += c === "\r" && rows[i + 1] === "\n" ? 2 : 1;
        line++;
        break;
      }
      field += c;
      i++;
    }
    if (unclosed) {
      // Resume on the line after the one the record began on.
      const nl = rows.indexOf("\n", startI);
      i = nl < 0 ? rows.length : nl + 1;
      line = startLine + 1;
      out.push({ line: startLine, fields: null });
      continue;
    }
    fields.push(field);
    line += (fields.join(",").match(/\n/g) ?? []).length;
    out.push({ line: startLine, fields });
  }
  return out;
}

const guarded = (v: string) => (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v);
const unguard = (v: string) => (/^'[=+\-@\t\r]/.test(v) ? v.slice(1) : v);
const cell = (v: string) => {
  const g = guarded(v);
  return /[",\r\n]/.test(g) ? `"${g.replace(/"/g, '""')}"` : g;
};

export class FakeDoNotText {
  #rows = new Map<string, DntNumber>();

  constructor(seed: DntNumber[], private readonly changed: (phone: string, optedOut: boolean) => void) {
    for (const n of seed) this.#rows.set(n.phone, n);
  }

  list(): DntNumber[] {
    return [...this.#rows.values()].sort((a, b) => (a.optedOutAt ?? "").localeCompare(b.optedOutAt ?? ""));
  }

  has(phone: string): boolean {
    return this.#rows.has(phone);
  }

  #put(n: DntNumber): boolean {
    if (this.#rows.has(n.phone)) return false;
    this.#rows.set(n.phone, n);
    this.changed(n.phone, true);
    return true;
  }

  /** A customer's STOP: on the list from `at`, unless already there. */
  record(phone: string, at: string, source: string): void {
    this.#put({ phone, name: null, optedOutAt: at, source });
  }

  add(raw: string, nowIso: string): DntNumber {
    const phone = e164(raw);
    if (!phone) bad("phone", `"${raw.trim()}" is not a phone number; write it like (512) 555-0142 or +44 20 7946 0018`);
    this.#put({ phone, name: null, optedOutAt: nowIso, source: "staff" });
    return structuredClone(this.#rows.get(phone) as DntNumber);
  }

  remove(raw: string): void {
    const phone = e164(raw);
    if (!phone) bad("phone", `"${raw.trim()}" is not a phone number`);
    if (!this.#rows.delete(phone)) throw ipcError("not_found", `${phone} is not on the do-not-text list`);
    this.changed(phone, false);
  }

  import(csv: string, nowIso: string): DntImportResult {
    const bytes = new TextEncoder().encode(csv).length;
    if (bytes > MAX_CSV_BYTES) bad("csv", `the file is ${bytes} bytes; the most one import takes is ${MAX_CSV_BYTES} bytes. Split it into smaller files`);
    const rejected: DntRowIssue[] = [];
    const warnings: DntRowIssue[] = [];
    const seen = new Map<string, DntNumber>();
    let duplicatesMerged = 0;
    let cols: { phone: number; date: number; source: number } | null = null;
    for (const { line, fields } of records(csv)) {
      if (fields === null) {
        rejected.push({ line, reason: "a quoted field is never closed; check the quotes on this line" });
        continue;
      }
      if (fields.every((f) => !f.trim())) continue;
      if (!cols) {
        const keys = fields.map((f) => f.toLowerCase().replace(/[^a-z0-9]/g, ""));
        const phone = keys.findIndex((k) => PHONE_HEADERS.includes(k));
        const date = keys.findIndex((k) => k.startsWith("optedout") || k === "date");
        const source = keys.indexOf("source");
        if (phone >= 0 || date >= 0 || source >= 0) {
          if (phone < 0) bad("csv", `the header (${fields.join(", ")}) names no phone column; name the column with the numbers "phone"`);
          cols = { phone, date, source };
          continue;
        }
        cols = { phone: 0, date: 1, source: 2 };
      }
      const get = (i: number) => unguard((fields[i] ?? "").trim()).trim();
      const raw = get(cols.phone);
      if (!raw) {
        rejected.push({ line, reason: "the row has no phone number" });
        continue;
      }
      const phone = e164(raw);
      if (!phone) {
        rejected.push({ line, reason: `"${raw.slice(0, 60)}" is not a phone number` });
        continue;
      }
      const rawDate = cols.date >= 0 ? get(cols.date) : "";
      let at: string | null = null;
      if (rawDate) {
        const t = Date.parse(rawDate);
        if (Number.isNaN(t)) warnings.push({ line, reason: `could not read the date "${rawDate}"; imported without it (use 2026-03-08 or 2026-03-08T14:00:00Z)` });
        else at = new Date(Math.min(t, Date.parse(nowIso))).toISOString();
      }
      if (seen.has(phone)) {
        duplicatesMerged++;
        continue;
      }
      seen.set(phone, { phone, name: null, optedOutAt: at ?? nowIso, source: (cols.source >= 0 ? get(cols.source) : "") || "import" });
    }
    let added = 0;
    for (const n of seen.values()) if (this.#put(n)) added++;
    return { added, alreadyListed: seen.size - added, duplicatesMerged, rejected, warnings };
  }

  export(): string {
    // Whole seconds, as the desk writes them.
    const at = (iso: string | null) => (iso ? new Date(iso).toISOString().replace(/\.\d{3}Z$/, "Z") : "");
    const rows = this.list().map((n) => [n.phone, at(n.optedOutAt), n.source ?? "", ""].map(cell).join(","));
    return ["phone,opted_out_at,source,note", ...rows].map((r) => `${r}\r\n`).join("");
  }
}
