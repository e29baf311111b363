/**
 * The lead-lifecycle settings screens on the fake backend: the rota's week view (overnight
 * shifts on both days), the "on shift now" line, errors pinned to the exact field, and the
 * do-not-text list's import (per-line errors), export and blocking.
 */
import { flushSync, mount, unmount } from "svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { RosterNow } from "../backend/bindings/RosterNow";
import type { RosterShift } from "../backend/bindings/RosterShift";
import type { RosterWeek } from "../backend/bindings/RosterWeek";
import { createFakeBackend, type FakeBackend } from "../backend/fake";
import { decodeCsv, importSummary, sourceLabel } from "./dnt";
import EscalationSettings from "./EscalationSettings.svelte";
import { DntStore } from "./dnt.svelte";
import RotaSettings from "./RotaSettings.svelte";
import { RosterStore } from "./roster.svelte";
import { isOvernight, onShiftLine, weekColumns } from "./rota";
import { SettingsStore, errorPath } from "./settings.svelte";
import WeekView from "./WeekView.svelte";

let fake: FakeBackend | null = null;
const mounted: object[] = [];
afterEach(() => {
  for (const m of mounted.splice(0)) void unmount(m as Record<string, unknown>);
  document.body.replaceChildren();
  fake?.dispose();
  fake = null;
});

/** Saturday 14 March 2026, 03:00 in Chicago (CDT, UTC-5): Friday night's shift is running. */
const SAT_3AM = Date.parse("2026-03-14T08:00:00Z");

function backendAt(ms: number): FakeBackend {
  fake = createFakeBackend({ now: () => ms, conversations: 12 });
  return fake;
}

async function loadedSettings(b: FakeBackend) {
  const store = new SettingsStore(b);
  await store.load();
  if (!store.draft) throw new Error("settings did not load");
  return { store, draft: store.draft };
}

const settle = async () => {
  for (let i = 0; i < 4; i++) await new Promise((r) => setTimeout(r, 0));
  flushSync();
};

function shift(who: string, hours: string, over: Partial<RosterShift> = {}): RosterShift {
  return {
    who, hours, overnight: false, startsAt: "", endsAt: "", origin: "rota", covers: null, onNow: false, ...over,
  };
}

describe("the rota's week view", () => {
  it("shows this week from Monday, with Friday night's shift on Friday and its tail on Saturday", async () => {
    const b = backendAt(SAT_3AM);
    const roster = new RosterStore(b);
    await roster.load();
    expect(roster.error).toBeNull();
    const week = roster.week as RosterWeek;
    expect(week.weekStart).toBe("2026-03-09");
    const cols = weekColumns(week);
    expect(cols.map((c) => c.label)).toEqual(["Mon 9 Mar", "Tue 10 Mar", "Wed 11 Mar", "Thu 12 Mar", "Fri 13 Mar", "Sat 14 Mar", "Sun 15 Mar"]);
    expect(cols.filter((c) => c.today).map((c) => c.date)).toEqual(["2026-03-14"]);

    const friday = cols[4]?.entries ?? [];
    expect(friday.map((e) => [e.who, e.time, e.overnight, e.carried])).toEqual([
      ["Maria", "08:00–17:00", false, false],
      ["Dee", "22:00–06:00", true, false],
    ]);
    // The part of the shift running now is Saturday's morning tail, not Friday's evening.
    expect(friday.find((e) => e.who === "Dee")?.onNow).toBe(false);
    const saturday = cols[5]?.entries ?? [];
    expect(saturday[0]).toMatchObject({ who: "Dee", time: "until 06:00", carried: true, onNow: true });
    expect(saturday.slice(1).map((e) => e.who)).toEqual(["Mike", "Dee"]);
    expect(cols.every((c) => c.onCall === "Maria")).toBe(true);

    expect(onShiftLine(roster.now as RosterNow)).toBe("On shift now: Dee (until 06:00)");

    await roster.move(1);
    expect(roster.week?.weekStart).toBe("2026-03-16");
    expect(roster.week?.days.some((d) => d.today)).toBe(false);
    await roster.thisWeek();
    expect(roster.week?.weekStart).toBe("2026-03-09");
  });

  it("a shift ending at midnight is not overnight, and the week's last night has no next column", () => {
    const week: RosterWeek = {
      weekStart: "2026-03-09", timeZone: "America/New_York",
      days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map((weekday, i) => ({
        date: `2026-03-${String(9 + i).padStart(2, "0")}`, weekday, today: false, off: [], onCall: null,
        shifts: i === 0 ? [shift("Ana", "18:00-24:00", { overnight: true })] : i === 6 ? [shift("Ben", "22:00-06:00", { overnight: true })] : [],
      })),
    };
    const cols = weekColumns(week);
    expect(cols[0]?.entries[0]).toMatchObject({ time: "18:00–24:00", overnight: false });
    expect(cols[1]?.entries).toEqual([]);
    expect(cols[6]?.entries).toHaveLength(1);
    expect(isOvernight("22:00-06:00")).toBe(true);
    expect(isOvernight("18:00-00:00")).toBe(false);
    expect(isOvernight("08:00-17:00")).toBe(false);
  });

  it("says who is paged when nobody is on shift", () => {
    const base: RosterNow = { at: "", timeZone: "UTC", people: [], via: "nobody", owners: [] };
    expect(onShiftLine({ ...base, via: "on_call", people: [{ name: "Cara", role: "manager", until: null }] })).toBe("Nobody on shift now. On call: Cara");
    expect(onShiftLine({ ...base, owners: ["Ana", "Ben"] })).toBe("Nobody on shift or on call now. Urgent leads page the owners: Ana, Ben");
    expect(onShiftLine(base)).toMatch(/add an owner under Staff/);
    expect(onShiftLine({ ...base, via: "override", people: [{ name: "Ben", role: "staff", until: "17:00" }] }))
      .toBe("On shift now: Ben (until 17:00) (rota changed for today)");
  });

  it("follows overrides: a day off hands over to the on-call person, a cover swaps the name", async () => {
    const b = backendAt(SAT_3AM);
    const { store, draft } = await loadedSettings(b);
    draft.shifts.overrides = [
      { kind: "off", who: "Dee", date: "2026-03-13", until: null, covers: null, hours: null, note: "sick" },
      { kind: "cover", who: "Mike", date: "2026-03-12", until: null, covers: "Maria", hours: null, note: null },
    ];
    expect(await store.save()).toBe(true);
    const now = await b.rosterNow();
    expect(now.via).toBe("on_call");
    expect(onShiftLine(now)).toBe("Nobody on shift now. On call: Maria");
    const week = await b.rosterWeek(null);
    expect(week.days[4]?.off).toEqual([{ who: "Dee", note: "sick" }]);
    expect(week.days[3]?.shifts[0]).toMatchObject({ who: "Mike", origin: "cover", covers: "Maria" });
  });

  it("renders the week and the prominent on-shift line", async () => {
    const b = backendAt(SAT_3AM);
    const { store, draft } = await loadedSettings(b);
    const target = document.createElement("div");
    document.body.appendChild(target);
    mounted.push(mount(RotaSettings, { target, props: { store, backend: b, staff: draft.staff, shifts: draft.shifts } }));
    await settle();
    expect(target.querySelector('[data-testid="on-shift-now"]')?.textContent).toBe("On shift now: Dee (until 06:00)");
    const days = [...target.querySelectorAll('[data-testid="week-day"]')];
    expect(days).toHaveLength(7);
    const sat = days[5] as HTMLElement;
    expect(sat.getAttribute("aria-current")).toBe("date");
    const tail = sat.querySelector('[data-testid="week-shift"][data-carried="true"]');
    expect(tail?.textContent).toContain("until 06:00");
    const fri = days[4] as HTMLElement;
    expect(fri.querySelector('[data-who="Dee"]')?.textContent).toContain("→ next day");
  });

  it("shows names from outside as text", () => {
    const target = document.createElement("div");
    document.body.appendChild(target);
    const evil = "<img src=x onerror=alert(1)>";
    const week: RosterWeek = {
      weekStart: "2026-03-09", timeZone: "UTC",
      days: [{ date: "2026-03-09", weekday: "mon", today: true, shifts: [shift(evil, "08:00-17:00")], off: [{ who: evil, note: evil }], onCall: evil }],
    };
    mounted.push(mount(WeekView, { target, props: { week } }));
    flushSync();
    expect(target.querySelector("img")).toBeNull();
    expect(target.querySelector('[data-testid="week-shift"] .who')?.textContent).toBe(evil);
  });
});

describe("errors are pinned to the exact field", () => {
  it("reads the config key an error leads with", () => {
    expect(errorPath("shifts.rota[2].hours: \"8-17\" is not shift hours")).toBe("shifts.rota[2].hours");
    expect(errorPath("shifts.on_call names \"Dave\", who is not on the staff list")).toBe("shifts.on_call");
    expect(errorPath("sending_hours.window: bad")).toBe("sending_hours.window");
    expect(errorPath("staff[1].phone: not a number")).toBe("staff[1].phone");
    expect(errorPath("Dedupe window: soon")).toBeNull();
    expect(errorPath("disk full")).toBeNull();
  });

  it("a rota naming someone not on staff is shown on that rota line's person", async () => {
    const b = backendAt(SAT_3AM);
    const { store, draft } = await loadedSettings(b);
    draft.shifts.rota.push({ who: "Zed", days: "mon", hours: "09:00-10:00" });
    expect(await store.save()).toBe(false);
    expect(store.errorKey).toBe("shifts.rota[3].who");
    expect(Object.keys(store.fieldErrors)).toEqual(["shifts"]);
    expect(store.errorAt("shifts.rota[3].who")).toMatch(/"Zed", who is not on the staff list/);
    expect(store.errorWithin("shifts.rota[3]")).toBe(true);
    expect(store.errorWithin("shifts.rota[2]")).toBe(false);
    expect(store.errorAt("shifts.rota[3].hours")).toBeNull();
  });

  it("bad touch delays, windows, hours and escalation timings each name their key", async () => {
    const b = backendAt(SAT_3AM);
    const { store, draft } = await loadedSettings(b);
    const saved: typeof draft = JSON.parse(JSON.stringify(draft));
    const cases: [string, (d: typeof draft) => void][] = [
      ["followup.touches[1].delay", (d) => { if (d.followup.touches[1]) d.followup.touches[1].delay = "soon"; }],
      ["followup.touches[0].template", (d) => { if (d.followup.touches[0]) d.followup.touches[0].template = "Hi {frist_name}"; }],
      ["followup.touches", (d) => { d.followup.touches = Array.from({ length: 10 }, () => ({ delay: "1h", snap: "none" as const, businessHours: false, template: "Hi" })); }],
      ["sending_hours.window", (d) => { d.sendingHours.window = "21:00-08:00"; }],
      ["shifts.rota[2].hours", (d) => { if (d.shifts.rota[2]) d.shifts.rota[2].hours = "8-17"; }],
      ["escalation.repeat_every", (d) => { d.escalation.repeatEvery = "5s"; }],
      ["escalation.backup", (d) => { d.escalation.backup = ["Nobody"]; }],
      ["compliance.help_reply", (d) => { d.compliance.helpReply = "Call us."; }],
      ["staff[2].name", (d) => { if (d.staff[2]) d.staff[2].name = "maria"; }],
    ];
    for (const [key, breakIt] of cases) {
      store.draft = structuredClone(saved);
      breakIt(store.draft);
      expect(await store.save(), key).toBe(false);
      expect(store.errorKey, key).toBe(key);
      expect(store.errorAt(key), key).toBeTruthy();
    }
    store.draft = structuredClone(saved);
    if (store.draft.shifts.rota[0]) store.draft.shifts.rota[0].hours = "22:00-06:00";
    expect(await store.save()).toBe(true);
    expect(store.errorKey).toBeNull();
  });
});

/** A spreadsheet export at its worst: BOM, CRLF, quotes, formula cells, bad rows. */
const HOSTILE = "\uFEFFPhone,Opted out at,Source\r\n" +
  '"(512) 555-0142",2026-03-08T14:00:00Z,"desk, front"\r\n' +
  '=HYPERLINK("http://evil"),,\r\n' +
  "'+15125550143,,=cmd|' /C calc'!A0\r\n" +
  "not a number,,\r\n" +
  '"5125550144,,never closed\r\n' +
  "5125550145,yesterday,\r\n" +
  "512.555.0142,,dup\r\n";

describe("keywords and escalation", () => {
  it("keeps a new line while urgent words are typed, and shows a save error beside its field", async () => {
    const b = backendAt(SAT_3AM);
    const { store, draft } = await loadedSettings(b);
    const target = document.createElement("div");
    document.body.appendChild(target);
    mounted.push(mount(EscalationSettings, { target, props: { store, backend: b, escalation: draft.escalation, compliance: draft.compliance, staff: draft.staff } }));
    flushSync();
    const area = target.querySelector("textarea") as HTMLTextAreaElement;
    area.value = "flood\n";
    area.dispatchEvent(new Event("input", { bubbles: true }));
    flushSync();
    expect(area.value).toBe("flood\n");
    expect(draft.escalation.urgentWords).toEqual(["flood"]);
    area.value = "flood\nsewage";
    area.dispatchEvent(new Event("input", { bubbles: true }));
    flushSync();
    expect(draft.escalation.urgentWords).toEqual(["flood", "sewage"]);

    draft.escalation.repeatEvery = "5s";
    expect(await store.save()).toBe(false);
    flushSync();
    const shown = target.querySelector('[data-testid="field-error"][data-key="escalation.repeat_every"]');
    expect(shown?.textContent).toBe('must be at least 10s, got "5s"');
  });
});

describe("the do-not-text list", () => {
  it("imports what it can and reports every bad row by its line", async () => {
    const b = backendAt(SAT_3AM);
    const conv = b.simulateMissedCall("+15125550142");
    const dnt = new DntStore(b);
    await dnt.load();
    const before = dnt.list.length;
    const file = { name: "export.csv", size: HOSTILE.length, arrayBuffer: async () => new TextEncoder().encode(HOSTILE).buffer as ArrayBuffer };
    expect(await dnt.importFile(file)).toBe(true);
    const r = dnt.lastImport?.result;
    expect(r?.rejected.map((i) => i.line)).toEqual([3, 5, 6]);
    expect(r?.rejected[2]?.reason).toMatch(/never closed/);
    expect(r?.warnings.map((i) => i.line)).toEqual([7]);
    expect(r?.added).toBe(3);
    expect(r?.duplicatesMerged).toBe(1);
    expect(importSummary(r ?? { added: 0, alreadyListed: 0, duplicatesMerged: 0, rejected: [], warnings: [] }))
      .toBe("3 numbers added, 1 repeated row merged. 3 rows skipped (see below). 1 row imported without a date.");
    expect(dnt.list).toHaveLength(before + 3);
    expect(dnt.list.find((n) => n.phone === "+15125550143")?.source).toBe("=cmd|' /C calc'!A0");
    await expect(b.conversationReply(conv, "hello?")).rejects.toMatchObject({ code: "opted_out" });

    const csv = (await dnt.exportCsv()) ?? "";
    expect(csv.startsWith("phone,opted_out_at,source,note\r\n")).toBe(true);
    expect(csv).toContain("'+15125550143");
    expect(csv).toContain("'=cmd|' /C calc'!A0");
    for (const cellText of csv.split("\r\n").slice(1).flatMap((l) => l.split(","))) {
      expect(/^"?[=+\-@]/.test(cellText), cellText).toBe(false);
    }
    const other = createFakeBackend({ now: () => SAT_3AM, conversations: 0 });
    const back = await other.dntImport(csv);
    expect(back.rejected).toEqual([]);
    expect(await other.dntExport()).toBe(csv);
    other.dispose();
  });

  it("refuses a whole file only when it is too big or names no phone column", async () => {
    const b = backendAt(SAT_3AM);
    const spy = vi.spyOn(b, "dntImport");
    const dnt = new DntStore(b);
    const big = { name: "huge.csv", size: 6 * 1024 * 1024, arrayBuffer: async () => new ArrayBuffer(0) };
    expect(await dnt.importFile(big)).toBe(false);
    expect(dnt.importError).toMatch(/the most one import takes is 5 MB/);
    expect(spy).not.toHaveBeenCalled();
    const noPhone = new TextEncoder().encode("name,date\r\nAna,2026-03-08\r\n");
    expect(await dnt.importFile({ name: "names.csv", size: noPhone.length, arrayBuffer: async () => noPhone.buffer as ArrayBuffer })).toBe(false);
    expect(dnt.importError).toMatch(/names no phone column/);
  });

  it("reads Excel's UTF-16 and UTF-8 files with a byte-order mark", () => {
    const text = "phone\r\n5125550142\r\n";
    const le = new Uint8Array([0xff, 0xfe, ...[...text].flatMap((c) => [c.charCodeAt(0), 0])]);
    expect(decodeCsv(le)).toBe(text);
    const utf8 = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(text)]);
    expect(decodeCsv(utf8)).toBe(text);
  });

  it("adds and removes numbers by hand, explaining a bad number", async () => {
    const b = backendAt(SAT_3AM);
    const conv = b.simulateMissedCall("+15125550199");
    const dnt = new DntStore(b);
    await dnt.load();
    expect(await dnt.add("555")).toBe(false);
    expect(dnt.addError).toMatch(/is not a phone number/);
    expect(await dnt.add("(512) 555-0199")).toBe(true);
    expect(dnt.list.find((n) => n.phone === "+15125550199")?.source).toBe("staff");
    expect(sourceLabel("staff")).toBe("Added by hand");
    await expect(b.conversationReply(conv, "hi")).rejects.toMatchObject({ code: "opted_out" });
    expect(await dnt.remove("+15125550199", "texted START")).toBe(true);
    expect(dnt.list.some((n) => n.phone === "+15125550199")).toBe(false);
    await expect(b.conversationReply(conv, "welcome back")).resolves.toMatchObject({ kind: "message" });
    expect(await dnt.remove("+15125550199", "")).toBe(false);
    expect(dnt.removeError).toMatch(/not on the do-not-text list/);
  });
});
