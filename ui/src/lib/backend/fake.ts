/**
 * In-memory stand-in for the desktop shell: realistic demo data and behaviour (replies go
 * pending → sent → delivered, opted-out replies are refused, events fire on every change).
 * Used by unit tests and by `vite dev` in a plain browser. Not a simulator of Twilio: the
 * shell's own demo mode does that; this only has to behave like the IPC contract.
 */
import type { Backend, ProviderCredentials, Unsubscribe } from "./backend";
import type { AppStatus } from "./bindings/AppStatus";
import type { ConversationSummary } from "./bindings/ConversationSummary";
import type { DomainEvent } from "./bindings/DomainEvent";
import type { EscalationInfo } from "./bindings/EscalationInfo";
import type { Funnel } from "./bindings/Funnel";
import type { FunnelRow } from "./bindings/FunnelRow";
import type { InboxPage } from "./bindings/InboxPage";
import type { InboxQuery } from "./bindings/InboxQuery";
import type { Settings } from "./bindings/Settings";
import type { TemplatePreview } from "./bindings/TemplatePreview";
import type { Thread } from "./bindings/Thread";
import type { TimelineItem } from "./bindings/TimelineItem";
import {
  BOOKING_LINK, BUSINESS_NAME, MAIN_NUMBER, SECOND_NUMBER, STAFF,
  buildDemoConversation, iso, rng, snippetOf,
} from "./demoData";
import { ipcError } from "./errors";
import { FakeDoNotText, defaultLifecycleSettings, fakeRosterNow, fakeRosterWeek, validateLifecycle } from "./fakeLifecycle";
import { countSegments } from "../sms/segments";
import { MAX_DAYS, buckets, dateIn, daysBetween, isDate } from "../results/period";

export type FakeSeed = {
  /** How many conversations to generate (default 48). 50,000 exercises the virtual list. */
  conversations?: number;
  /** Comma-separated: "offline", "no-responder", "provider-problem", "disk-full", "live". */
  scenario?: string;
  /** Emit simulated live activity every `simulateEveryMs` (dev only; default off). */
  simulate?: boolean;
  simulateEveryMs?: number;
  sendDelayMs?: number;
  deliverDelayMs?: number;
  now?: () => number;
  /** Acts as if a desktop alert for this conversation was clicked once the UI listens. */
  openConversation?: number;
};

export interface FakeBackend extends Backend {
  /** Test/demo controls, not part of the contract. */
  setOnline(online: boolean): void;
  receive(conversationId: number, body: string): void;
  simulateMissedCall(number: string): number;
  setResponderRunning(number: string, running: boolean): void;
  dispose(): void;
}

type Convo = {
  summary: ConversationSummary;
  items: TimelineItem[] | null; // built lazily from demo data; kept once touched
  jobValueCents: number | null;
  needsReply: boolean;
  endMs: number;
  fresh: boolean;
  escalation: EscalationInfo | null;
};

/** A missed call from before the demo conversations, for the results' history. */
type PastLead = { atMs: number; texted: boolean; replied: boolean; booked: boolean; valueCents: number | null };

/** Words in a customer's text that escalate at once (the engine's defaults). */
const URGENT = /\b(emergency|flood(ing)?|burst|no heat|gas leak|locked out)\b/i;

const clone = <T>(v: T): T => structuredClone(v);
const PLACEHOLDERS = ["business_name", "business", "booking_link", "first_name"] as const;

export function defaultSettings(): Settings {
  return {
    businessName: BUSINESS_NAME,
    timeZone: "America/Chicago",
    bookingLink: BOOKING_LINK,
    hours: { mon: "08:00-17:00", tue: "08:00-17:00", wed: "08:00-17:00", thu: "08:00-17:00", fri: "08:00-16:00", sat: "09:00-12:00", sun: "closed" },
    holidays: ["2025-12-25", "2026-01-01"],
    templateBusinessHours: "Sorry we missed your call! This is {business}. How can we help? You can also book here: {booking_link}",
    templateAfterHours: "Thanks for calling {business}! We're closed right now but will call you back first thing. Book anytime: {booking_link}",
    dedupeWindow: "24h",
    pollInterval: "15s",
    responder: true,
    staff: STAFF.map((name, i) => ({ name, phone: i === 0 ? "+15125550177" : null, role: i === 0 ? "owner" : "staff", desk: i === 1 ? "Front desk" : null })),
    alertRepeat: "5m",
    cannedReplies: [
      "Thanks! A technician can come by today between 2 and 4. Does that work?",
      "Could you send a photo of the problem? It helps us bring the right parts.",
      "Our diagnostic visit is $89, credited toward the repair.",
      "We're fully booked today; the earliest slot is tomorrow at 9am.",
    ],
    launchAtLogin: true,
    ...defaultLifecycleSettings(STAFF),
    envLocked: ["pollInterval"],
  };
}

export function createFakeBackend(initialSeed: FakeSeed = {}): FakeBackend {
  let seed = initialSeed;
  const now = seed.now ?? (() => Date.now());
  const sendDelayMs = seed.sendDelayMs ?? 700;
  const deliverDelayMs = seed.deliverDelayMs ?? 1500;
  const scenarios = new Set((seed.scenario ?? "").split(",").map((s) => s.trim()).filter(Boolean));
  const total = seed.conversations ?? 48;

  let settings = defaultSettings();
  const status: AppStatus = {
    mode: scenarios.has("live") ? "live" : "demo",
    businessName: settings.businessName,
    online: true,
    offlineSince: null,
    pendingOutbox: 0,
    providerProblem: scenarios.has("provider-problem")
      ? "Twilio rejected the saved credentials (error 20003). Calls and texts are not syncing."
      : null,
    storageProblem: scenarios.has("disk-full") ? "The disk is full: Textback cannot save new messages until space is freed" : null,
    responders: [
      { number: MAIN_NUMBER, thisDesk: true, running: true },
      { number: SECOND_NUMBER, thisDesk: false, running: !scenarios.has("no-responder") },
    ],
    version: "0.1.0-demo",
  };

  // Newest first. Activity times are strictly decreasing so the `before` cursor is exact.
  const order: Convo[] = [];
  const byId = new Map<number, Convo>();
  const t0 = now();
  const spacing = total > 1000 ? 97_000 : 41 * 60_000;
  for (let id = 1; id <= total; id++) {
    const endMs = t0 - 4 * 60_000 - (id - 1) * spacing - ((id * 7919) % 60) * 1000;
    const fresh = id <= Math.max(8, Math.round(total * 0.2)) && id <= 400;
    const demo = buildDemoConversation(id, endMs, fresh);
    const c: Convo = { summary: demo.summary, items: null, jobValueCents: demo.jobValueCents, needsReply: demo.needsReply, endMs, fresh, escalation: null };
    order.push(c);
    byId.set(id, c);
  }
  let nextConversationId = total + 1;
  // The do-not-text list: the demo's opted-out callers, kept in step with their conversations.
  const dnt = new FakeDoNotText(
    order.filter((c) => c.summary.optedOut).map((c) => ({
      phone: c.summary.contactNumber, name: c.summary.contactName, optedOutAt: c.summary.lastActivityAt, source: "keyword",
    })),
    (phone, optedOut) => {
      for (const c of order) {
        if (c.summary.contactNumber !== phone) continue;
        c.summary.optedOut = optedOut;
        emit("conversationChanged", c.summary.id, optedOut ? `${phone} opted out` : `${phone} opted back in`);
      }
    },
  );
  let nextItemId = 1_000_000_000;
  let nextEscalationId = 1;

  // Event batching: everything emitted in one tick reaches listeners as one array.
  const listeners = new Set<(e: DomainEvent[]) => void>();
  const openListeners = new Set<(id: number) => void>();
  let queue: DomainEvent[] = [];
  const timers = new Set<ReturnType<typeof setTimeout>>();
  function emit(kind: DomainEvent["kind"], conversationId: number | null, summary: string) {
    queue.push({ kind, conversationId, summary });
    if (queue.length === 1) {
      queueMicrotask(() => {
        const batch = queue;
        queue = [];
        for (const l of listeners) l(clone(batch));
      });
    }
  }
  function later(ms: number, fn: () => void) {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  }

  function get(id: number): Convo {
    const c = byId.get(id);
    if (!c) throw ipcError("not_found", `Conversation ${id} not found`);
    return c;
  }
  function itemsOf(c: Convo): TimelineItem[] {
    if (!c.items) c.items = buildDemoConversation(c.summary.id, c.endMs, c.fresh).items;
    return c.items;
  }
  function label(c: Convo) {
    return c.summary.contactName ?? c.summary.contactNumber;
  }
  function touch(c: Convo, at: string) {
    c.summary.lastActivityAt = at;
    c.summary.snippet = snippetOf(itemsOf(c));
    const i = order.indexOf(c);
    if (i >= 0) order.splice(i, 1);
    order.unshift(c);
  }
  function nowIso() {
    // Never equal to the newest row's time, so cursors stay strict.
    const top = order[0];
    let ms = Math.floor(now() / 1000) * 1000;
    if (top && ms <= Date.parse(top.summary.lastActivityAt)) ms = Date.parse(top.summary.lastActivityAt) + 1000;
    return iso(ms);
  }

  function matches(c: Convo, q: InboxQuery, needle: string, digits: string): boolean {
    const s = c.summary;
    switch (q.filter) {
      case "unread": if (s.unread === 0) return false; break;
      case "needs_reply": if (!c.needsReply || s.done || s.optedOut) return false; break;
      case "unbooked": if (s.done || !(s.leadState === "new" || s.leadState === "texted" || s.leadState === "replied")) return false; break;
      case "booked": if (s.leadState !== "booked") return false; break;
      case "done": if (!s.done) return false; break;
      case "escalated": if (!s.escalated) return false; break;
      case "all": break;
    }
    if (!needle) return true;
    if ((s.contactName ?? "").toLowerCase().includes(needle)) return true;
    if (s.snippet.toLowerCase().includes(needle)) return true;
    if (digits.length >= 3 && s.contactNumber.includes(digits)) return true;
    return (c.items ?? []).some((it) => (it.kind === "message" || it.kind === "note") && it.body.toLowerCase().includes(needle));
  }

  function activity(c: Convo, at: string, action: string, actor: string, detail: string | null) {
    itemsOf(c).push({ kind: "activity", id: nextItemId++, at, action, actor, detail });
  }

  /** Escalates the conversation's lead (or adds the reason to its open escalation) and pages
   * the first member of staff, like the responder engine does. */
  function escalate(c: Convo, reason: string, at: string, notify = true) {
    const open = c.escalation && c.escalation.acknowledgedAt === null ? c.escalation : null;
    if (open) {
      if (!open.reasons.includes(reason)) open.reasons.push(reason);
      activity(c, at, "escalation_reason_added", "engine", reason);
      emit("conversationChanged", c.summary.id, reason);
      return;
    }
    const who = settings.staff[0] ?? { name: "Owner", phone: null };
    c.escalation = {
      id: nextEscalationId++, conversationId: c.summary.id, reasons: [reason], openedAt: at,
      pages: [{ staff: who.name, phone: who.phone, round: 0, sentAt: at }],
      acknowledgedAt: null, acknowledgedBy: null,
    };
    c.summary.escalated = true;
    activity(c, at, "escalated", "engine", reason);
    activity(c, at, "escalation_paged", "engine", `round 0: ${who.name}`);
    if (notify) emit("escalation", c.summary.id, `Escalated: ${reason}`);
  }

  function pastLeads(): PastLead[] {
    const r = rng(9090);
    const out: PastLead[] = [];
    for (let day = 3; day <= 400; day++) {
      const calls = Math.floor(r() * 6);
      for (let k = 0; k < calls; k++) {
        const texted = r() < 0.9;
        const replied = texted && r() < 0.6;
        const booked = replied && r() < 0.55;
        out.push({
          atMs: t0 - day * 86_400_000 - Math.floor(r() * 10 * 3_600_000),
          texted, replied, booked,
          valueCents: booked && r() < 0.85 ? (150 + Math.floor(r() * 1400)) * 100 : null,
        });
      }
    }
    return out;
  }

  /** The demo's missed-call leads: older history, then what the conversations show. */
  function funnelLeads(): PastLead[] {
    const leads = past.slice();
    for (const c of order) {
      const s = c.summary;
      if (!s.missedCall) continue;
      const call = (c.items ?? []).find((it) => it.kind === "call" && it.outcome !== "answered");
      leads.push({
        atMs: Date.parse(call?.at ?? s.lastActivityAt),
        texted: s.leadState !== null && s.leadState !== "new",
        replied: s.leadState === "replied" || s.leadState === "booked" || s.leadState === "lost",
        booked: s.leadState === "booked",
        valueCents: s.leadState === "booked" ? c.jobValueCents : null,
      });
    }
    return leads;
  }

  function send(c: Convo, msg: Extract<TimelineItem, { kind: "message" }>) {
    if (!status.online) {
      status.pendingOutbox++;
      return;
    }
    later(sendDelayMs, () => {
      msg.status = "sent";
      emit("messageStatus", c.summary.id, `Sent to ${label(c)}`);
      later(deliverDelayMs, () => {
        msg.status = "delivered";
        emit("messageStatus", c.summary.id, `Delivered to ${label(c)}`);
      });
    });
  }

  function renderTemplate(template: string): { rendered: string | null; error: string | null } {
    if (!template.trim()) return { rendered: null, error: "The template is empty" };
    let out = "";
    for (let i = 0; i < template.length; i++) {
      const ch = template[i] as string;
      if (ch !== "{") {
        if (ch === "}") return { rendered: null, error: `Unmatched } at character ${i + 1}` };
        out += ch;
        continue;
      }
      const end = template.indexOf("}", i);
      if (end < 0) return { rendered: null, error: `Unclosed { at character ${i + 1}` };
      const name = template.slice(i + 1, end).trim();
      if (name === "business" || name === "business_name") out += settings.businessName;
      else if (name === "booking_link") out += settings.bookingLink;
      else if (name === "first_name") out += "Sam";
      else return { rendered: null, error: `Unknown placeholder {${name}}: use ${PLACEHOLDERS.map((p) => `{${p}}`).join(", ")}` };
      i = end;
    }
    return { rendered: out, error: null };
  }

  function normaliseNumber(raw: string): string {
    const digits = raw.replace(/[\s().-]/g, "");
    if (/^\d{10}$/.test(digits)) return `+1${digits}`;
    if (/^1\d{10}$/.test(digits)) return `+${digits}`;
    if (/^\+[1-9]\d{7,14}$/.test(digits)) return digits;
    throw ipcError("invalid_input", `number: "${raw}" is not a phone number we can text (use +1 512 555 0142)`);
  }

  function validateSettings(next: Settings) {
    const bad = (field: string, msg: string) => {
      throw ipcError("invalid_input", `${field}: ${msg}`);
    };
    for (const f of settings.envLocked) {
      const k = f as keyof Settings;
      if (JSON.stringify(next[k]) !== JSON.stringify(settings[k])) bad(f, `set by an environment variable; it can't be changed here`);
    }
    if (!next.businessName.trim()) bad("businessName", "must not be empty");
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: next.timeZone });
    } catch {
      bad("timeZone", `unknown time zone "${next.timeZone}" (use an IANA name like America/Chicago)`);
    }
    if (next.bookingLink && !/^https:\/\/\S+$/.test(next.bookingLink)) bad("bookingLink", "must be an https:// link");
    for (const [day, v] of Object.entries(next.hours)) {
      if (v !== "closed" && !/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/.test(v)) bad(`hours.${day}`, `"${v}" should look like 08:00-17:00 or closed`);
    }
    for (const h of next.holidays) if (!/^\d{4}-\d{2}-\d{2}$/.test(h)) bad("holidays", `"${h}" should be a date like 2025-12-25`);
    for (const f of ["dedupeWindow", "pollInterval", "alertRepeat"] as const) {
      if (!/^\d+\s*(s|m|h|d)$/.test(next[f].trim())) bad(f, `"${next[f]}" should be a duration like 30s, 10m or 24h`);
    }
    for (const f of ["templateBusinessHours", "templateAfterHours"] as const) {
      const r = renderTemplate(next[f]);
      if (r.error) bad(f, r.error);
    }
    validateLifecycle(next, (t) => renderTemplate(t).error, normaliseNumber);
  }

  let simTimer: ReturnType<typeof setInterval> | null = null;
  const past = pastLeads();

  /** Booked, lost: the lead closes, and its open escalation with it (taken "by" that). */
  function closeLead(c: Convo, state: "booked" | "lost") {
    const at = nowIso();
    c.summary.leadState = state;
    c.needsReply = false;
    const open = c.escalation && c.escalation.acknowledgedAt === null ? c.escalation : null;
    if (open) {
      open.acknowledgedAt = at;
      open.acknowledgedBy = `Front desk (${state})`;
    }
    c.summary.escalated = false;
    activity(c, at, `lead_${state}`, "Front desk", state);
  }

  // One lead that needs a person now: the second-newest reply nobody answered.
  {
    const c = order.filter((x) => x.fresh && x.summary.leadState === "replied" && !x.summary.optedOut)[1];
    if (c) escalate(c, "replied 12 min ago and nobody has answered", c.summary.lastActivityAt, false);
  }

  const fake: FakeBackend = {
    async appStatus() {
      return clone(status);
    },

    async appShown() {},

    async inboxList(q) {
      const limit = Math.min(Math.max(1, q.limit), 500);
      const needle = (q.search ?? "").trim().toLowerCase();
      const digits = needle.replace(/\D/g, "");
      const before = q.before ? Date.parse(q.before) : Infinity;
      const items: ConversationSummary[] = [];
      let more = false;
      for (const c of order) {
        if (Date.parse(c.summary.lastActivityAt) >= before) continue;
        if (!matches(c, q, needle, digits)) continue;
        if (items.length === limit) {
          more = true;
          break;
        }
        items.push(clone(c.summary));
      }
      let totalUnread = 0;
      for (const c of order) totalUnread += c.summary.unread > 0 ? 1 : 0;
      const last = items[items.length - 1];
      return { items, nextCursor: more && last ? last.lastActivityAt : null, totalUnread } satisfies InboxPage;
    },

    async conversationOpen(id) {
      const c = get(id);
      const items = itemsOf(c);
      if (c.summary.unread !== 0) {
        c.summary.unread = 0;
        emit("conversationChanged", id, `Read ${label(c)}`);
      }
      return clone({
        conversation: c.summary,
        items,
        jobValueCents: c.jobValueCents,
        canReply: !c.summary.optedOut,
        replyBlockedReason: c.summary.optedOut
          ? `${label(c)} replied STOP, so Textback won't text this number until they text START.`
          : null,
        escalation: c.escalation,
      } satisfies Thread);
    },

    async conversationReply(id, body) {
      const c = get(id);
      if (!body.trim()) throw ipcError("invalid_input", "body: the message is empty");
      if (c.summary.optedOut) {
        throw ipcError("opted_out", `${label(c)} opted out (replied STOP). Textback won't send texts to this number until they text START.`);
      }
      const msg: Extract<TimelineItem, { kind: "message" }> = {
        kind: "message", id: nextItemId++, at: nowIso(), direction: "outbound", body,
        status: "pending", error: null, mediaUrls: [], attachments: [], automatic: false,
      };
      itemsOf(c).push(msg);
      c.needsReply = false;
      c.summary.unread = 0;
      touch(c, msg.at);
      emit("conversationChanged", id, `Replied to ${label(c)}`);
      send(c, msg);
      return clone(msg);
    },

    async conversationStart(number, body) {
      const e164 = normaliseNumber(number);
      if (!body.trim()) throw ipcError("invalid_input", "body: the message is empty");
      let c = order.find((x) => x.summary.contactNumber === e164);
      if (!c) {
        const id = nextConversationId++;
        c = {
          summary: {
            id, contactName: null, contactNumber: e164, businessNumber: MAIN_NUMBER, lastActivityAt: nowIso(),
            snippet: "", unread: 0, leadState: null, missedCall: false, done: false, assignedTo: null, optedOut: false, escalated: false,
          },
          items: [], jobValueCents: null, needsReply: false, endMs: now(), fresh: false, escalation: null,
        };
        byId.set(id, c);
        order.unshift(c);
      }
      await fake.conversationReply(c.summary.id, body);
      return c.summary.id;
    },

    async conversationMarkRead(id, read) {
      const c = get(id);
      c.summary.unread = read ? 0 : Math.max(1, c.summary.unread);
      emit("conversationChanged", id, read ? "Marked read" : "Marked unread");
    },
    async conversationMarkDone(id, done) {
      const c = get(id);
      c.summary.done = done;
      if (done) c.summary.unread = 0;
      emit("conversationChanged", id, done ? "Marked done" : "Reopened");
    },
    async conversationAssign(id, staff) {
      const c = get(id);
      c.summary.assignedTo = staff && staff.trim() ? staff.trim() : null;
      emit("conversationChanged", id, c.summary.assignedTo ? `Assigned to ${c.summary.assignedTo}` : "Unassigned");
    },
    async conversationAddNote(id, body) {
      const c = get(id);
      if (!body.trim()) throw ipcError("invalid_input", "body: the note is empty");
      const note: TimelineItem = { kind: "note", id: nextItemId++, at: nowIso(), author: "Front desk", body };
      itemsOf(c).push(note);
      emit("conversationChanged", id, "Note added");
      return clone(note);
    },
    async leadMarkBooked(id, jobValueCents) {
      const c = get(id);
      if (jobValueCents !== null && (!Number.isInteger(jobValueCents) || jobValueCents < 0)) {
        throw ipcError("invalid_input", "jobValueCents: must be a positive amount");
      }
      c.jobValueCents = jobValueCents;
      closeLead(c, "booked");
      emit("conversationChanged", id, "Marked booked");
    },
    async leadMarkLost(id) {
      const c = get(id);
      closeLead(c, "lost");
      emit("conversationChanged", id, "Marked lost");
    },
    async escalationAcknowledge(id) {
      const c = order.find((x) => x.escalation?.id === id);
      if (!c || !c.escalation) throw ipcError("not_found", `escalation ${id} was not found`);
      const e = c.escalation;
      if (e.acknowledgedAt === null) {
        e.acknowledgedAt = nowIso();
        e.acknowledgedBy = "Front desk";
        c.summary.escalated = false;
        activity(c, e.acknowledgedAt, "escalation_acknowledged", "Front desk", null);
        emit("escalation", c.summary.id, "Taken by Front desk");
      }
      return clone(e);
    },
    async resultsFunnel(q) {
      for (const [field, value] of [["from", q.from], ["to", q.to]] as const) {
        if (!isDate(value)) throw ipcError("invalid_input", `${field}: "${value}" is not a date like 2026-03-01`);
      }
      if (daysBetween(q.from, q.to) < 0) throw ipcError("invalid_input", `the period ends (${q.to}) before it starts (${q.from})`);
      if (daysBetween(q.from, q.to) >= MAX_DAYS) throw ipcError("invalid_input", `the period is longer than ${MAX_DAYS} days; choose a shorter one`);
      const spans = buckets(q.from, q.to, q.bucket);
      const empty = (start: string, end: string): FunnelRow => ({
        start, end, missedCalls: 0, textedBack: 0, replied: 0, booked: 0, jobValueCents: 0, bookedWithoutValue: 0,
      });
      const rows = spans.map((b) => empty(b.from, b.to));
      for (const lead of funnelLeads()) {
        const day = dateIn(settings.timeZone, new Date(lead.atMs));
        const row = rows.find((r) => r.start <= day && day <= r.end);
        if (!row) continue;
        row.missedCalls++;
        if (lead.texted) row.textedBack++;
        if (lead.replied) row.replied++;
        if (lead.booked) {
          row.booked++;
          if (lead.valueCents === null) row.bookedWithoutValue++;
          else row.jobValueCents += lead.valueCents;
        }
      }
      const totals = empty(q.from, q.to);
      for (const r of rows) {
        totals.missedCalls += r.missedCalls;
        totals.textedBack += r.textedBack;
        totals.replied += r.replied;
        totals.booked += r.booked;
        totals.jobValueCents += r.jobValueCents;
        totals.bookedWithoutValue += r.bookedWithoutValue;
      }
      return { from: q.from, to: q.to, timeZone: settings.timeZone, bucket: q.bucket, rows, totals } satisfies Funnel;
    },
    async contactRename(conversationId, name) {
      const c = get(conversationId);
      c.summary.contactName = name.trim() || null;
      emit("conversationChanged", conversationId, "Contact renamed");
    },

    async settingsGet() {
      return clone(settings);
    },
    async settingsSave(next) {
      validateSettings(next);
      settings = clone({ ...next, envLocked: settings.envLocked });
      status.businessName = settings.businessName;
      for (const r of status.responders) if (r.thisDesk) r.running = settings.responder;
      return clone(settings);
    },
    async templatePreview(template) {
      const r = renderTemplate(template);
      return { ...r, segments: countSegments(r.rendered ?? "") } satisfies TemplatePreview;
    },
    async rosterWeek(weekStart) {
      return fakeRosterWeek(settings, now(), weekStart);
    },
    async rosterNow() {
      return fakeRosterNow(settings, now());
    },
    async dntList() {
      return clone(dnt.list());
    },
    async dntAdd(phone) {
      return dnt.add(phone, new Date(now()).toISOString());
    },
    async dntRemove(phone) {
      dnt.remove(phone);
    },
    async dntImport(csv) {
      return dnt.import(csv, new Date(now()).toISOString());
    },
    async dntExport() {
      return dnt.export();
    },

    async providerConnect(c: ProviderCredentials) {
      const sid = c.accountSid.trim();
      if (!/^AC[0-9a-fA-F]{32}$/.test(sid)) {
        throw ipcError("invalid_input", "accountSid: an Account SID starts with AC followed by 32 letters and digits");
      }
      if ("authToken" in c) {
        if (!/^[0-9a-fA-F]{32}$/.test(c.authToken.trim())) throw ipcError("auth", "Twilio rejected these credentials (error 20003: authenticate). Check the Auth Token.");
      } else {
        if (!/^SK[0-9a-fA-F]{32}$/.test(c.apiKeySid.trim())) throw ipcError("invalid_input", "apiKeySid: an API Key SID starts with SK followed by 32 letters and digits");
        if (c.apiKeySecret.trim().length < 16) throw ipcError("auth", "Twilio rejected these credentials (error 20003: authenticate). Check the API key secret.");
      }
      return { numbers: [MAIN_NUMBER, SECOND_NUMBER, "+15125550188"] };
    },
    async providerFinishConnect(numbers, responder) {
      if (numbers.length === 0) throw ipcError("invalid_input", "numbers: pick at least one number");
      status.mode = "live";
      status.providerProblem = null;
      status.responders = numbers.map((number) => ({ number, thisDesk: responder, running: responder }));
      settings.responder = responder;
    },

    async onEvents(cb): Promise<Unsubscribe> {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    async onOpenConversation(cb): Promise<Unsubscribe> {
      openListeners.add(cb);
      const pending = seed.openConversation;
      if (pending !== undefined && byId.has(pending)) {
        seed = { ...seed, openConversation: undefined };
        queueMicrotask(() => cb(pending));
      }
      return () => openListeners.delete(cb);
    },

    setOnline(online) {
      if (online === status.online) return;
      status.online = online;
      if (!online) {
        status.offlineSince = nowIso();
        emit("wentOffline", null, "Lost connection to Twilio");
        return;
      }
      status.offlineSince = null;
      status.pendingOutbox = 0;
      for (const c of order) {
        for (const it of c.items ?? []) if (it.kind === "message" && it.status === "pending") send(c, it);
      }
      emit("wentOnline", null, "Back online");
    },
    receive(conversationId, body) {
      const c = get(conversationId);
      const msg: TimelineItem = {
        kind: "message", id: nextItemId++, at: nowIso(), direction: "inbound", body,
        status: "received", error: null, mediaUrls: [], attachments: [], automatic: false,
      };
      itemsOf(c).push(msg);
      c.summary.unread++;
      if (/^\s*(stop|unsubscribe|cancel|end|quit)\s*$/i.test(body)) {
        dnt.record(c.summary.contactNumber, msg.at, "keyword");
        c.summary.optedOut = true;
        c.summary.leadState = "opted_out";
        c.needsReply = false;
      } else {
        c.needsReply = true;
        if (c.summary.leadState === "texted" || c.summary.leadState === "new" || c.summary.leadState === null) c.summary.leadState = "replied";
      }
      touch(c, msg.at);
      emit("messageReceived", conversationId, `${label(c)}: ${body}`);
      const urgent = c.summary.optedOut ? null : URGENT.exec(body);
      if (urgent) escalate(c, `urgent: the customer wrote "${urgent[0].toLowerCase()}"`, msg.at);
    },
    simulateMissedCall(number) {
      const e164 = normaliseNumber(number);
      let c = order.find((x) => x.summary.contactNumber === e164);
      if (!c) {
        const id = nextConversationId++;
        c = {
          summary: {
            id, contactName: null, contactNumber: e164, businessNumber: MAIN_NUMBER, lastActivityAt: nowIso(),
            snippet: "", unread: 0, leadState: "new", missedCall: true, done: false, assignedTo: null, optedOut: false, escalated: false,
          },
          items: [], jobValueCents: null, needsReply: false, endMs: now(), fresh: false, escalation: null,
        };
        byId.set(id, c);
        order.unshift(c);
      }
      const id = c.summary.id;
      const responding = status.responders.some((r) => r.number === c.summary.businessNumber && r.running);
      const call: TimelineItem = {
        kind: "call", id: nextItemId++, at: nowIso(), outcome: "no_answer", outcomeReason: "Rang 25 s on 2 phones; nobody picked up",
        decision: responding && !c.summary.optedOut ? "send" : "no_responder",
        decisionReason: responding && !c.summary.optedOut
          ? "Missed call during business hours: business-hours template"
          : c.summary.optedOut ? "The caller opted out (STOP)" : "No desk is the responder for this number",
      };
      itemsOf(c).push(call);
      c.summary.missedCall = true;
      c.summary.unread++;
      c.summary.done = false;
      touch(c, call.at);
      emit("callMissed", id, `Missed call from ${label(c)}`);
      if (call.decision === "send") {
        const msg: Extract<TimelineItem, { kind: "message" }> = {
          kind: "message", id: nextItemId++, at: nowIso(), direction: "outbound",
          body: renderTemplate(settings.templateBusinessHours).rendered ?? "", status: "pending", error: null, mediaUrls: [], attachments: [], automatic: true,
        };
        itemsOf(c).push(msg);
        if (c.summary.leadState === "new" || c.summary.leadState === null) c.summary.leadState = "texted";
        touch(c, msg.at);
        emit("textBackSent", id, `Texted back ${label(c)}`);
        send(c, msg);
      } else {
        emit("textBackSkipped", id, `Not texted: ${call.decisionReason}`);
      }
      return id;
    },
    setResponderRunning(number, running) {
      for (const r of status.responders) if (r.number === number) r.running = running;
      emit("conversationChanged", null, running ? "Responder started" : "Responder stopped");
    },
    dispose() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      if (simTimer) clearInterval(simTimer);
      listeners.clear();
      openListeners.clear();
    },
  };

  if (scenarios.has("offline")) {
    status.online = false;
    status.offlineSince = iso(t0 - 25 * 60_000);
    // Two replies typed while offline, waiting in the outbox.
    for (const c of order.slice(0, 12).filter((x) => !x.summary.optedOut).slice(0, 2)) {
      void fake.conversationReply(c.summary.id, "Thanks, we'll call you back within the hour.");
    }
  }

  if (seed.simulate) {
    const r = rng(4242);
    let n = 0;
    simTimer = setInterval(() => {
      n++;
      if (n % 2 === 1) {
        fake.simulateMissedCall(`+1512555${String(2000 + Math.floor(r() * 7000))}`);
      } else {
        const candidates = order.slice(0, 10).filter((c) => !c.summary.optedOut);
        const c = candidates[Math.floor(r() * candidates.length)];
        if (c) fake.receive(c.summary.id, "Hi, any update on when someone can come by?");
      }
    }, seed.simulateEveryMs ?? 45_000);
  }

  return fake;
}
