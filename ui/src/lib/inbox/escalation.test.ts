import { flushSync, mount, unmount } from "svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ConversationSummary } from "../backend/bindings/ConversationSummary";
import type { EscalationInfo } from "../backend/bindings/EscalationInfo";
import type { InboxQuery } from "../backend/bindings/InboxQuery";
import { createFakeBackend, type FakeBackend } from "../backend/fake";
import ConversationRow from "./ConversationRow.svelte";
import EscalationBanner from "./EscalationBanner.svelte";
import { activityText, pageRounds, type ActivityItem } from "./escalation";
import { FILTERS, InboxStore } from "./inbox.svelte";
import { ThreadStore } from "./thread.svelte";

let fake: FakeBackend | null = null;
const mounted: object[] = [];
afterEach(() => {
  for (const m of mounted.splice(0)) void unmount(m as Record<string, unknown>);
  document.body.replaceChildren();
  fake?.dispose();
  fake = null;
});
const flush = () => new Promise((r) => setTimeout(r, 0));
const q = (over: Partial<InboxQuery> = {}): InboxQuery => ({ search: null, filter: "all", before: null, limit: 500, ...over });

async function setup() {
  const b = (fake = createFakeBackend({ conversations: 120, sendDelayMs: 10_000 }));
  const inbox = new InboxStore(b, 200);
  const thread = new ThreadStore(b, (s) => inbox.upsert(s));
  await b.onEvents((events) => {
    void inbox.applyEvents(events);
    void thread.applyEvents(events);
  });
  await inbox.reload();
  return { b, inbox, thread };
}

function render<P extends Record<string, unknown>>(component: Parameters<typeof mount<P, object>>[0], props: P): HTMLElement {
  const target = document.createElement("div");
  document.body.appendChild(target);
  mounted.push(mount(component, { target, props }));
  flushSync();
  return target;
}

describe("inbox filters", () => {
  it("offers needs reply, escalated, unbooked and booked, and each shows only what it says", async () => {
    const { b, inbox } = await setup();
    expect(FILTERS.map((f) => f.value)).toEqual(expect.arrayContaining(["needs_reply", "escalated", "unbooked", "booked"]));
    const all = (await b.inboxList(q())).items;
    const check = async (filter: InboxQuery["filter"], holds: (c: ConversationSummary) => boolean) => {
      await inbox.setFilter(filter);
      expect(inbox.items.length, filter).toBeGreaterThan(0);
      expect(inbox.items.every(holds), filter).toBe(true);
      // Nothing that holds is left out (the fake's whole inbox fits in one page).
      expect(inbox.items.length, filter).toBe(all.filter((c) => holds(c) && (filter !== "unbooked" || !c.done)).length);
    };
    await check("booked", (c) => c.leadState === "booked");
    await check("unbooked", (c) => !c.done && ["new", "texted", "replied"].includes(c.leadState ?? ""));
    await check("escalated", (c) => c.escalated);
    await inbox.setFilter("needs_reply");
    expect(inbox.items.length).toBeGreaterThan(0);
    expect(inbox.items.every((c) => !c.done && !c.optedOut)).toBe(true);
  });

  it("an urgent reply escalates live: the row gets its marker and joins the escalated filter", async () => {
    const { b, inbox } = await setup();
    await inbox.setFilter("escalated");
    const before = inbox.items.map((c) => c.id);
    const row = (await b.inboxList(q())).items.find((c) => !c.escalated && !c.optedOut && !c.done) as ConversationSummary;
    b.receive(row.id, "Pipe BURST in the basement!!");
    await flush();
    await flush();
    expect(inbox.items.map((c) => c.id)).toEqual([row.id, ...before]);
    expect(inbox.items[0]?.escalated).toBe(true);
  });
});

describe("taking an escalation", () => {
  it("\"I've got it\" takes it, stops the marker, leaves the filter and shows on the timeline", async () => {
    const { b, inbox, thread } = await setup();
    await inbox.setFilter("escalated");
    const row = inbox.items[0] as ConversationSummary;
    expect(row.escalated).toBe(true);
    await thread.open(row.id);
    const esc = thread.thread?.escalation as EscalationInfo;
    expect(esc.acknowledgedAt).toBeNull();
    expect(esc.reasons[0]).toMatch(/nobody has answered/);
    expect(esc.pages[0]?.staff).toBe("Maria");

    const spy = vi.spyOn(b, "escalationAcknowledge");
    expect(await thread.acknowledge()).toBe(true);
    expect(spy).toHaveBeenCalledWith(esc.id);
    expect(thread.thread?.escalation?.acknowledgedBy).toBe("Front desk");
    expect(thread.thread?.conversation.escalated).toBe(false);
    await flush();
    await flush();
    expect(inbox.items.some((c) => c.id === row.id)).toBe(false);
    const actions = (thread.thread?.items ?? []).filter((i): i is ActivityItem => i.kind === "activity").map((i) => i.action);
    expect(actions).toEqual(["escalated", "escalation_paged", "escalation_acknowledged"]);
  });

  it("the first to take it keeps it, and a failure is shown instead of pretending", async () => {
    const { b, thread } = await setup();
    const row = (await b.inboxList(q({ filter: "escalated" }))).items[0] as ConversationSummary;
    await thread.open(row.id);
    const id = thread.thread?.escalation?.id as number;
    const first = await b.escalationAcknowledge(id);
    const second = await b.escalationAcknowledge(id);
    expect(second.acknowledgedAt).toBe(first.acknowledgedAt);

    vi.spyOn(b, "escalationAcknowledge").mockRejectedValueOnce({ code: "busy", message: "The database is busy; try again" });
    expect(await thread.acknowledge()).toBe(false);
    expect(thread.actionError).toBe("The database is busy; try again");
    expect(thread.acknowledging).toBe(false);
  });

  it("marking the lead booked closes its escalation too", async () => {
    const { b, thread } = await setup();
    const row = (await b.inboxList(q({ filter: "escalated" }))).items[0] as ConversationSummary;
    await thread.open(row.id);
    await thread.markBooked(42_000);
    await flush();
    await flush();
    expect(thread.thread?.conversation).toMatchObject({ leadState: "booked", escalated: false });
    expect(thread.thread?.escalation?.acknowledgedBy).toBe("Front desk (booked)");
    expect((await b.inboxList(q({ filter: "escalated" }))).items.some((c) => c.id === row.id)).toBe(false);
  });
});

describe("how an escalation reads", () => {
  const esc: EscalationInfo = {
    id: 1, conversationId: 9, reasons: ["<img src=x onerror=alert(1)>"], openedAt: "2026-03-04T15:00:00Z",
    pages: [
      { staff: "Maria", phone: "+15125550177", round: 0, sentAt: "2026-03-04T15:00:00Z" },
      { staff: "Mike", phone: null, round: 0, sentAt: "2026-03-04T15:00:01Z" },
      { staff: "Maria", phone: "+15125550177", round: 1, sentAt: "2026-03-04T15:05:00Z" },
    ],
    acknowledgedAt: null, acknowledgedBy: null,
  };

  it("groups pages by round, saying how each person was reached", () => {
    expect(pageRounds(esc)).toEqual([
      { round: 0, at: "2026-03-04T15:00:00Z", people: ["Maria (texted)", "Mike (desktop alert)"] },
      { round: 1, at: "2026-03-04T15:05:00Z", people: ["Maria (texted)"] },
    ]);
  });

  it("words the timeline's activity entries", () => {
    const item = (action: string, actor: string, detail: string | null): ActivityItem => ({ kind: "activity", id: 1, at: "2026-03-04T15:00:00Z", action, actor, detail });
    expect(activityText(item("escalation_paged", "engine", "round 0: Maria, Mike")).headline).toBe("Paged Maria, Mike");
    expect(activityText(item("escalation_paged", "engine", "round 2: Dee")).headline).toBe("Paged again (round 3): Dee");
    expect(activityText(item("escalation_acknowledged", "Dee (by text)", null)).headline).toBe("Dee (by text) took it");
    expect(activityText(item("lead_lost", "engine", "inactive")).headline).toMatch(/nothing happened/);
    expect(activityText(item("lead_booked", "calcom", "booked via calcom"))).toMatchObject({ headline: "Marked booked by calcom", detail: "booked via calcom" });
    expect(activityText(item("escalated", "engine", "urgent: the customer wrote \"flood\"")).tone).toBe("danger");
  });

  it("renders the banner's reasons as text and calls back on \"I've got it\"", () => {
    const onacknowledge = vi.fn();
    const el = render(EscalationBanner, { escalation: esc, busy: false, onacknowledge });
    expect(el.querySelector("img")).toBeNull();
    expect(el.querySelector('[data-testid="escalation-reason"]')?.textContent).toBe("<img src=x onerror=alert(1)>");
    expect(el.querySelectorAll('[data-testid="escalation-page"]')).toHaveLength(2);
    (el.querySelector('[data-testid="escalation-ack"]') as HTMLButtonElement).click();
    expect(onacknowledge).toHaveBeenCalledOnce();

    const taken = render(EscalationBanner, { escalation: { ...esc, acknowledgedAt: "2026-03-04T15:06:00Z", acknowledgedBy: "<b>Dee</b>" }, busy: false, onacknowledge });
    expect(taken.querySelector('[data-testid="escalation-ack"]')).toBeNull();
    expect(taken.querySelector('[data-testid="escalation-taken"] strong')?.textContent).toBe("<b>Dee</b>");
  });

  it("marks an escalated row, in its accessible name too", () => {
    const c: ConversationSummary = {
      id: 3, contactName: "Pat", contactNumber: "+15125550100", businessNumber: "+15125550123", lastActivityAt: new Date().toISOString(),
      snippet: "help", unread: 1, leadState: "replied", missedCall: true, done: false, assignedTo: null, optedOut: false, escalated: true,
    };
    const el = render(ConversationRow, { c, active: false, selected: false, onopen: () => {} });
    expect(el.querySelector('[data-testid="escalated-marker"]')).not.toBeNull();
    expect(el.querySelector('[role="option"]')?.getAttribute("aria-label")).toMatch(/escalated/);
  });
});
