import { afterEach, describe, expect, it, vi } from "vitest";
import type { ConversationSummary } from "../backend/bindings/ConversationSummary";
import type { InboxQuery } from "../backend/bindings/InboxQuery";
import type { TimelineItem } from "../backend/bindings/TimelineItem";
import { createFakeBackend, type FakeBackend } from "../backend/fake";
import { InboxStore } from "./inbox.svelte";
import { ThreadStore } from "./thread.svelte";

let fake: FakeBackend | null = null;
afterEach(() => {
  fake?.dispose();
  fake = null;
  vi.useRealTimers();
});
const q = (over: Partial<InboxQuery> = {}): InboxQuery => ({ search: null, filter: "all", before: null, limit: 200, ...over });

async function setup() {
  const b = (fake = createFakeBackend({ sendDelayMs: 300, deliverDelayMs: 300 }));
  const inbox = new InboxStore(b);
  const thread = new ThreadStore(b, (s) => inbox.upsert(s));
  await b.onEvents((events) => {
    void inbox.applyEvents(events);
    void thread.applyEvents(events);
  });
  await inbox.reload();
  return { b, inbox, thread };
}

const messages = (items: TimelineItem[]) => items.filter((i): i is Extract<TimelineItem, { kind: "message" }> => i.kind === "message");

describe("ThreadStore", () => {
  it("opening an unread conversation marks it read and updates its row at once", async () => {
    const { inbox, thread } = await setup();
    const row = inbox.items.find((c) => c.unread > 0) as ConversationSummary;
    await thread.open(row.id);
    expect(thread.thread?.conversation.id).toBe(row.id);
    expect(inbox.items.find((c) => c.id === row.id)?.unread).toBe(0);
  });

  it("a reply shows as pending, then as sent when the status event arrives", async () => {
    vi.useFakeTimers();
    const { b, inbox, thread } = await setup();
    const row = (await b.inboxList(q())).items.find((c) => !c.optedOut) as ConversationSummary;
    await thread.open(row.id);
    thread.draft = "Tech is 10 minutes out";
    expect(await thread.reply(thread.draft)).toBe("sent");

    const mine = () => messages(thread.thread?.items ?? []).find((m) => m.body === "Tech is 10 minutes out");
    expect(mine()?.status).toBe("pending");
    expect(thread.draft).toBe("");
    expect(inbox.items[0]).toMatchObject({ id: row.id, snippet: "Tech is 10 minutes out" });

    await vi.advanceTimersByTimeAsync(300);
    expect(mine()?.status).toBe("sent");
    await vi.advanceTimersByTimeAsync(300);
    expect(mine()?.status).toBe("delivered");
  });

  it("an opted-out reply is blocked with the backend's reason and the box is disabled", async () => {
    const { b, thread } = await setup();
    const optedOut = (await b.inboxList(q())).items.find((c) => c.optedOut) as ConversationSummary;
    await thread.open(optedOut.id);
    // The thread already says so; the store refuses without a round trip.
    expect(thread.thread?.canReply).toBe(false);
    expect(await thread.reply("hello")).toBe("blocked");
    expect(thread.replyError).toMatch(/STOP/);
  });

  it("shows the opted_out rejection when the contact opted out after the thread was opened", async () => {
    const { b, thread } = await setup();
    const row = (await b.inboxList(q())).items.find((c) => !c.optedOut) as ConversationSummary;
    await thread.open(row.id);
    // STOP arrives, but we reply before the refresh lands.
    const spy = vi.spyOn(b, "conversationReply").mockRejectedValueOnce({ code: "opted_out", message: "Pat opted out (replied STOP)." });
    expect(await thread.reply("Are you still there?")).toBe("blocked");
    expect(spy).toHaveBeenCalledOnce();
    expect(thread.replyError).toBe("Pat opted out (replied STOP).");
    expect(thread.thread?.canReply).toBe(false);
    expect(messages(thread.thread?.items ?? []).some((m) => m.body === "Are you still there?")).toBe(false);
  });

  it("keeps one draft per conversation", async () => {
    const { inbox, thread } = await setup();
    const [a, c] = inbox.items as [ConversationSummary, ConversationSummary];
    await thread.open(a.id);
    thread.draft = "for A";
    await thread.open(c.id);
    expect(thread.draft).toBe("");
    thread.draft = "for C";
    await thread.open(a.id);
    expect(thread.draft).toBe("for A");
  });

  it("booking, assigning, notes and renaming update the thread and the list row", async () => {
    const { inbox, thread } = await setup();
    const row = inbox.items[3] as ConversationSummary;
    await thread.open(row.id);
    expect(await thread.markBooked(18_500)).toBe(true);
    expect(await thread.assign("Dee")).toBe(true);
    expect(await thread.rename("  Pat Doyle ")).toBe(true);
    expect(await thread.addNote("Bring the long ladder")).toBe(true);
    expect(thread.thread?.jobValueCents).toBe(18_500);
    expect(thread.thread?.items.at(-1)).toMatchObject({ kind: "note", body: "Bring the long ladder" });
    expect(inbox.items.find((c) => c.id === row.id)).toMatchObject({ leadState: "booked", assignedTo: "Dee", contactName: "Pat Doyle" });
  });

  it("reports a failed action without changing local state", async () => {
    const { b, inbox, thread } = await setup();
    const row = inbox.items[0] as ConversationSummary;
    await thread.open(row.id);
    vi.spyOn(b, "leadMarkLost").mockRejectedValueOnce({ code: "internal", message: "database is locked" });
    expect(await thread.markLost()).toBe(false);
    expect(thread.actionError).toBe("database is locked");
    expect(thread.thread?.conversation.leadState).toBe(row.leadState);
  });

  it("refreshes the open thread when a message arrives for it, and not for others", async () => {
    const { b, inbox, thread } = await setup();
    const [a, c] = inbox.items as [ConversationSummary, ConversationSummary];
    await thread.open(a.id);
    const spy = vi.spyOn(b, "conversationOpen");
    b.receive(c.id, "unrelated");
    await new Promise((r) => setTimeout(r, 0));
    expect(spy).not.toHaveBeenCalled();
    b.receive(a.id, "Can you come at 3?");
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => setTimeout(r, 0));
    expect(spy).toHaveBeenCalledWith(a.id);
    expect(messages(thread.thread?.items ?? []).at(-1)?.body).toBe("Can you come at 3?");
  });
});
