/**
 * Components mounted into jsdom: outside text stays text, the inbox list stays virtual,
 * banners appear when status calls for them, and the reply box sends on Ctrl+Enter.
 */
import { flushSync, mount, unmount, type Component } from "svelte";
import { afterEach, describe, expect, it } from "vitest";
import type { AppStatus } from "./backend/bindings/AppStatus";
import type { ConversationSummary } from "./backend/bindings/ConversationSummary";
import type { TimelineItem } from "./backend/bindings/TimelineItem";
import { createFakeBackend, type FakeBackend } from "./backend/fake";
import ConversationList from "./inbox/ConversationList.svelte";
import ConversationRow from "./inbox/ConversationRow.svelte";
import { InboxStore } from "./inbox/inbox.svelte";
import ThreadPane from "./inbox/ThreadPane.svelte";
import { ThreadStore } from "./inbox/thread.svelte";
import TimelineMessage from "./inbox/TimelineMessage.svelte";
import TimelineNote from "./inbox/TimelineNote.svelte";
import StatusBanners from "./status/StatusBanners.svelte";

const XSS = `<img src=x onerror=alert(1)>`;
const mounted: object[] = [];
let fake: FakeBackend | null = null;

function render<P extends Record<string, unknown>>(component: Component<P, object, string>, props: P): HTMLElement {
  const target = document.createElement("div");
  document.body.appendChild(target);
  mounted.push(mount(component, { target, props }));
  flushSync();
  return target;
}

afterEach(() => {
  for (const m of mounted.splice(0)) void unmount(m as Record<string, unknown>);
  document.body.replaceChildren();
  fake?.dispose();
  fake = null;
});

const settle = async () => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 0));
  flushSync();
};

describe("outside text is rendered as text, never as HTML", () => {
  it("shows an SMS body containing markup literally and creates no element from it", () => {
    const item: TimelineItem = {
      kind: "message", id: 1, at: "2025-01-01T12:00:00Z", direction: "inbound", body: XSS,
      status: "received", error: null, mediaUrls: [], attachments: [], automatic: false,
    };
    const el = render(TimelineMessage, { item, contactLabel: "<b>Mallory</b>", online: true });
    expect(el.querySelector('[data-testid="message-body"]')?.textContent).toBe(XSS);
    expect(el.querySelector("img")).toBeNull();
    expect(el.querySelector("b")).toBeNull();
  });

  it("shows contact names, numbers and snippets with markup literally in the list row", () => {
    const c: ConversationSummary = {
      id: 7, contactName: `<script>alert(1)</script>`, contactNumber: "+15125550100", businessNumber: "+15125550123",
      lastActivityAt: new Date().toISOString(), snippet: XSS, unread: 2, leadState: "replied", missedCall: true,
      done: false, assignedTo: `<i>Eve</i>`, optedOut: false, escalated: false,
    };
    const el = render(ConversationRow, { c, active: false, selected: false, onopen: () => {} });
    expect(el.textContent).toContain(`<script>alert(1)</script>`);
    expect(el.textContent).toContain(XSS);
    expect(el.textContent).toContain(`<i>Eve</i>`);
    expect(el.querySelector("script, img, i")).toBeNull();
  });

  it("shows a note body with markup literally", () => {
    const item: TimelineItem = { kind: "note", id: 3, at: "2025-01-01T12:00:00Z", author: "<u>x</u>", body: XSS };
    const el = render(TimelineNote, { item });
    expect(el.querySelector('[data-testid="note-body"]')?.textContent).toBe(XSS);
    expect(el.querySelector("img, u")).toBeNull();
  });

  it("shows MMS media as an image of the given URL with alt text", () => {
    const item: TimelineItem = {
      kind: "message", id: 2, at: "2025-01-01T12:00:00Z", direction: "inbound", body: "",
      status: "received", error: null, mediaUrls: ["/demo-media/leak.svg"], attachments: [], automatic: false,
    };
    const el = render(TimelineMessage, { item, contactLabel: "Sam", online: true });
    const img = el.querySelector("img");
    expect(img?.getAttribute("src")).toBe("/demo-media/leak.svg");
    expect(img?.getAttribute("alt")).toBe("Photo 1 from Sam");
  });

  it("shows a non-picture attachment as a placeholder without a link", () => {
    const item: TimelineItem = {
      kind: "message", id: 4, at: "2025-01-01T12:00:00Z", direction: "inbound", body: "",
      status: "received", error: null, mediaUrls: [], attachments: ["application/pdf"], automatic: false,
    };
    const el = render(TimelineMessage, { item, contactLabel: "Sam", online: true });
    const placeholder = el.querySelector('[data-testid="message-attachment"]');
    expect(placeholder?.textContent).toContain("application/pdf");
    expect(el.querySelector("a, img")).toBeNull();
  });
});

describe("conversation list", () => {
  it("keeps only a handful of rows in the DOM with 50,000 conversations loaded", async () => {
    fake = createFakeBackend({ conversations: 50_000 });
    const inbox = new InboxStore(fake, 500);
    await inbox.reload();
    // Page through everything, as a long scroll would.
    while (inbox.nextCursor) await inbox.loadMore();
    expect(inbox.items).toHaveLength(50_000);
    const el = render(ConversationList, { inbox, onopen: () => {} });
    const rows = el.querySelectorAll('[data-testid="conversation-row"]');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(60);
    expect(rows[0]?.getAttribute("data-conversation-id")).toBe(String(inbox.items[0]?.id));
  });

  it("marks the active row for assistive tech and names every row", async () => {
    fake = createFakeBackend();
    const inbox = new InboxStore(fake);
    await inbox.reload();
    const el = render(ConversationList, { inbox, onopen: () => {} });
    const listbox = el.querySelector('[role="listbox"]');
    expect(listbox?.getAttribute("aria-activedescendant")).toBe(`conv-${inbox.items[0]?.id}`);
    for (const row of el.querySelectorAll('[role="option"]')) expect(row.getAttribute("aria-label")?.length).toBeGreaterThan(3);
    expect(el.querySelector('[data-testid="search-input"]')?.getAttribute("aria-label")).toBe("Search conversations");
  });
});

describe("status banners", () => {
  const base: AppStatus = {
    mode: "live", businessName: "Rivera", online: true, offlineSince: null, pendingOutbox: 0, providerProblem: null, storageProblem: null,
    responders: [{ number: "+15125550100", thisDesk: true, running: true }], version: "1",
  };
  const props = (status: AppStatus) => ({ status, onconnect: () => {}, onsettings: () => {} });

  it("shows nothing when live, online and responding", () => {
    const el = render(StatusBanners, props(base));
    expect(el.querySelectorAll('[role="status"], [role="alert"]')).toHaveLength(0);
  });

  it("warns that missed calls will not be texted back when a responder is not running", () => {
    const el = render(StatusBanners, props({ ...base, responders: [...base.responders, { number: "+15125550123", thisDesk: false, running: false }] }));
    const banners = el.querySelectorAll('[data-testid="no-responder-banner"]');
    expect(banners).toHaveLength(1);
    expect(banners[0]?.textContent).toContain("No responder running for +1 512-555-0123: missed calls will not be texted back");
    expect(banners[0]?.getAttribute("role")).toBe("alert");
  });

  it("shows demo mode with a way to connect, and offline with the outbox count", () => {
    const el = render(StatusBanners, props({ ...base, mode: "demo", online: false, offlineSince: "2025-01-01T10:42:00Z", pendingOutbox: 2 }));
    const demo = el.querySelector('[data-testid="demo-banner"]');
    expect(demo?.textContent).toContain("Demo mode");
    expect(demo?.querySelector("button")?.textContent).toContain("Connect your phone provider");
    expect(el.querySelector('[data-testid="offline-banner"]')?.textContent?.trim()).toMatch(/^Offline since .+ — 2 replies waiting to send$/);
  });

  it("says when Textback cannot save, as an alert, with the engine's words as text", () => {
    const message = "The disk is full: Textback cannot save new messages until space is freed <b>x</b>";
    const el = render(StatusBanners, props({ ...base, storageProblem: message }));
    const banner = el.querySelector('[data-testid="storage-banner"]');
    expect(banner?.getAttribute("role")).toBe("alert");
    expect(banner?.textContent).toContain(`Textback can't save: ${message}`);
    expect(banner?.querySelector("b")).toBeNull();
  });
});

describe("thread pane", () => {
  async function openThread(pick: (c: ConversationSummary) => boolean) {
    fake = createFakeBackend({ sendDelayMs: 10_000 });
    const inbox = new InboxStore(fake);
    await inbox.reload();
    const thread = new ThreadStore(fake, (s) => inbox.upsert(s));
    const row = inbox.items.find(pick) as ConversationSummary;
    await thread.open(row.id);
    const el = render(ThreadPane, { store: thread, online: true, staff: ["Maria"], cannedReplies: ["On our way"], onmarkedunread: () => {} });
    return { el, thread, row };
  }

  it("shows every timeline item with its kind, call outcomes and the text-back decision", async () => {
    const { el } = await openThread((c) => c.leadState === "replied");
    const kinds = [...el.querySelectorAll('[data-testid="timeline-item"]')].map((i) => i.getAttribute("data-kind"));
    expect(kinds).toEqual(["call", "message", "message"]);
    expect(el.querySelector('[data-testid="call-outcome"]')?.textContent).toBe("Missed: no answer");
    expect(el.querySelector('[data-testid="textback-decision"]')?.textContent).toContain("Texted back automatically");
    expect(el.textContent).toContain("Automatic · sent by Textback");
  });

  it("sends on Ctrl+Enter and shows the message as pending", async () => {
    const { el } = await openThread((c) => !c.optedOut);
    const input = el.querySelector('[data-testid="reply-input"]') as HTMLTextAreaElement;
    input.value = "Be there at 3";
    input.dispatchEvent(new Event("input", { bubbles: true }));
    flushSync();
    expect(el.querySelector('[data-testid="segment-counter"]')?.textContent).toContain("13/160 · 1 SMS");
    input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", ctrlKey: true, bubbles: true }));
    await settle();
    const bodies = [...el.querySelectorAll('[data-testid="message-body"]')];
    const last = bodies.at(-1);
    expect(last?.textContent).toBe("Be there at 3");
    expect(last?.closest("li")?.querySelector('[data-testid="message-status"]')?.getAttribute("data-status")).toBe("pending");
    expect(input.value).toBe("");
  });

  it("disables replying to an opted-out contact and says why", async () => {
    const { el } = await openThread((c) => c.optedOut);
    expect((el.querySelector('[data-testid="reply-input"]') as HTMLTextAreaElement).disabled).toBe(true);
    expect((el.querySelector('[data-testid="reply-send"]') as HTMLButtonElement).disabled).toBe(true);
    expect(el.querySelector('[data-testid="reply-blocked"]')?.textContent).toMatch(/STOP/);
  });

  it("says that assignment and notes are only on this desk", async () => {
    const { el } = await openThread(() => true);
    expect(el.textContent).toContain("only on this desk until team workspace");
  });
});
