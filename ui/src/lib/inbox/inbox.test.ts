import { afterEach, describe, expect, it, vi } from "vitest";
import type { Backend } from "../backend/backend";
import type { ConversationSummary } from "../backend/bindings/ConversationSummary";
import type { InboxPage } from "../backend/bindings/InboxPage";
import type { InboxQuery } from "../backend/bindings/InboxQuery";
import { createFakeBackend, type FakeBackend } from "../backend/fake";
import { InboxStore } from "./inbox.svelte";

let fake: FakeBackend | null = null;
afterEach(() => {
  fake?.dispose();
  fake = null;
});
const make = (n = 300) => (fake = createFakeBackend({ conversations: n }));
const flush = () => new Promise((r) => setTimeout(r, 0));

describe("InboxStore paging", () => {
  it("loads the first page, then appends the next one from the cursor", async () => {
    const b = make(250);
    const spy = vi.spyOn(b, "inboxList");
    const inbox = new InboxStore(b, 100);
    await inbox.reload();
    expect(inbox.items).toHaveLength(100);
    const cursor = inbox.nextCursor;
    expect(cursor).toBe(inbox.items[99]?.lastActivityAt);

    await inbox.loadMore();
    expect(spy).toHaveBeenLastCalledWith(expect.objectContaining({ before: cursor, limit: 100 }));
    expect(inbox.items).toHaveLength(200);
    await inbox.loadMore();
    expect(inbox.items).toHaveLength(250);
    expect(inbox.nextCursor).toBeNull();
    expect(new Set(inbox.items.map((c) => c.id)).size).toBe(250);

    // Nothing more to load: no further calls.
    const calls = spy.mock.calls.length;
    await inbox.loadMore();
    expect(spy.mock.calls.length).toBe(calls);
  });

  it("restarts from the first page when search or filter changes", async () => {
    const b = make();
    const inbox = new InboxStore(b, 50);
    await inbox.reload();
    await inbox.loadMore();
    await inbox.setFilter("booked");
    expect(inbox.items.length).toBeGreaterThan(0);
    expect(inbox.items.every((c) => c.leadState === "booked")).toBe(true);
    await inbox.setSearch("zzzz-nobody");
    expect(inbox.items).toEqual([]);
    expect(inbox.nextCursor).toBeNull();
  });

  it("drops the answer to an older query that arrives after a newer one", async () => {
    const b = make();
    const real = b.inboxList.bind(b);
    let releaseFirst: () => void = () => {};
    let calls = 0;
    vi.spyOn(b, "inboxList").mockImplementation(async (query: InboxQuery) => {
      // Hold the first answer back until the second query has been answered.
      if (calls++ === 0) await new Promise<void>((r) => (releaseFirst = r));
      return real(query);
    });
    const inbox = new InboxStore(b, 50);
    const first = inbox.setFilter("done");
    await inbox.setFilter("booked");
    releaseFirst();
    await first;
    expect(inbox.filter).toBe("booked");
    expect(inbox.items.length).toBeGreaterThan(0);
    expect(inbox.items.every((c) => c.leadState === "booked")).toBe(true);
    expect(inbox.loading).toBe(false);
  });
});

describe("InboxStore live updates", () => {
  it("moves a conversation with a new message to the top without reloading the pages already loaded", async () => {
    const b = make(300);
    const inbox = new InboxStore(b, 100);
    await inbox.reload();
    await inbox.loadMore(); // 200 rows loaded
    const old = inbox.items[150] as ConversationSummary;
    const untouched = inbox.items[199] as ConversationSummary;

    await b.onEvents((events) => void inbox.applyEvents(events));
    const spy = vi.spyOn(b, "inboxList");
    b.receive(old.id, "Is anyone there?");
    await flush();
    await flush();

    expect(inbox.items[0]).toMatchObject({ id: old.id, snippet: "Is anyone there?", unread: old.unread + 1 });
    expect(inbox.items.filter((c) => c.id === old.id)).toHaveLength(1);
    expect(inbox.items).toHaveLength(200);
    // Only the head was re-read, and rows beyond it are the very same objects.
    expect(spy).toHaveBeenCalledTimes(1);
    expect(spy).toHaveBeenCalledWith(expect.objectContaining({ before: null }));
    expect(inbox.items.find((c) => c.id === untouched.id)).toBe(untouched);
  });

  it("removes a row that no longer matches the filter (done under Needs reply)", async () => {
    const b = make(300);
    const inbox = new InboxStore(b, 100);
    await inbox.setFilter("needs_reply");
    const row = inbox.items[0] as ConversationSummary;
    await b.onEvents((events) => void inbox.applyEvents(events));
    await b.conversationMarkDone(row.id, true);
    await flush();
    await flush();
    expect(inbox.items.map((c) => c.id)).not.toContain(row.id);
  });

  it("ignores event batches that concern no conversation", async () => {
    const b = make();
    const inbox = new InboxStore(b);
    await inbox.reload();
    const spy = vi.spyOn(b, "inboxList");
    await inbox.applyEvents([{ kind: "wentOffline", conversationId: null, summary: "offline" }]);
    expect(spy).not.toHaveBeenCalled();
  });

  it("merges a head page: newer copies win, stale rows in the head's range go, older rows stay", () => {
    const row = (id: number, min: number): ConversationSummary => ({
      id, contactName: null, contactNumber: `+1512555${1000 + id}`, businessNumber: "+15125550100",
      lastActivityAt: new Date(Date.UTC(2025, 0, 1, 12, min)).toISOString(), snippet: `s${id}`, unread: 0,
      leadState: null, missedCall: false, done: false, assignedTo: null, optedOut: false, escalated: false,
    });
    const inbox = new InboxStore({} as Backend);
    inbox.items = [row(1, 50), row(2, 40), row(3, 30), row(4, 20), row(5, 10)];
    inbox.nextCursor = row(5, 10).lastActivityAt;
    // Head: 4 got new activity; 2 dropped out of the query; head ends at minute 30.
    const head: InboxPage = { items: [row(4, 55), row(1, 50), row(3, 30)], nextCursor: row(3, 30).lastActivityAt, totalUnread: 0 };
    inbox.mergeHead(head);
    expect(inbox.items.map((c) => c.id)).toEqual([4, 1, 3, 5]);
    expect(inbox.nextCursor).toBe(row(5, 10).lastActivityAt);
  });
});

describe("InboxStore keyboard cursor", () => {
  it("starts on the first row, moves with clamping, and Enter opens the row under the cursor", async () => {
    const b = make(20);
    const inbox = new InboxStore(b);
    await inbox.reload();
    expect(inbox.activeIndex).toBe(0);
    inbox.move(1);
    inbox.move(1);
    expect(inbox.activeId).toBe(inbox.items[2]?.id);
    inbox.move(-10);
    expect(inbox.activeIndex).toBe(0);
    inbox.move(100);
    expect(inbox.activeIndex).toBe(19);
    expect(inbox.openActive()).toBe(inbox.items[19]?.id);
    expect(inbox.selectedId).toBe(inbox.items[19]?.id);
  });

  it("keeps the cursor on the same conversation when rows above it move", async () => {
    const b = make(50);
    const inbox = new InboxStore(b);
    await inbox.reload();
    inbox.move(5);
    const id = inbox.activeId as number;
    const other = inbox.items[10] as ConversationSummary;
    inbox.upsert({ ...other, lastActivityAt: new Date().toISOString() });
    expect(inbox.items[0]?.id).toBe(other.id);
    expect(inbox.activeId).toBe(id);
    expect(inbox.activeIndex).toBe(6);
  });
});
