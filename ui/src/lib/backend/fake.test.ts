import { afterEach, describe, expect, it, vi } from "vitest";
import type { ConversationSummary } from "./bindings/ConversationSummary";
import type { DomainEvent } from "./bindings/DomainEvent";
import type { InboxQuery } from "./bindings/InboxQuery";
import type { TimelineItem } from "./bindings/TimelineItem";
import { createFakeBackend, type FakeBackend } from "./fake";

const q = (over: Partial<InboxQuery> = {}): InboxQuery => ({ search: null, filter: "all", before: null, limit: 50, ...over });
let fake: FakeBackend | null = null;
const make = (...args: Parameters<typeof createFakeBackend>) => (fake = createFakeBackend(...args));

afterEach(() => {
  fake?.dispose();
  fake = null;
  vi.useRealTimers();
});

async function all(b: FakeBackend, over: Partial<InboxQuery> = {}): Promise<ConversationSummary[]> {
  const out: ConversationSummary[] = [];
  let before: string | null = null;
  for (;;) {
    const page = await b.inboxList(q({ ...over, before }));
    out.push(...page.items);
    if (!page.nextCursor) return out;
    before = page.nextCursor;
  }
}

describe("fake backend: inbox", () => {
  it("lists newest activity first", async () => {
    const b = make();
    const { items } = await b.inboxList(q());
    const times = items.map((c) => Date.parse(c.lastActivityAt));
    expect(times).toEqual([...times].sort((x, y) => y - x));
  });

  it("pages with the `before` cursor without gaps or duplicates", async () => {
    const b = make({ conversations: 230 });
    const first = await b.inboxList(q({ limit: 100 }));
    expect(first.items).toHaveLength(100);
    // The cursor is the last row's activity time, as the contract says.
    expect(first.nextCursor).toBe(first.items[99]?.lastActivityAt);
    const rows = await all(b, { limit: 100 });
    const ids = rows.map((r) => r.id);
    expect(new Set(ids).size).toBe(230);
    expect(ids).toHaveLength(230);
    const last = await b.inboxList(q({ limit: 100, before: rows[199]?.lastActivityAt ?? null }));
    expect(last.items).toHaveLength(30);
    expect(last.nextCursor).toBeNull();
  });

  it("searches by name, by number digits in any format, and by text", async () => {
    const b = make();
    const everyone = await all(b);
    const named = everyone.find((c) => c.contactName) as ConversationSummary;
    const byName = await all(b, { search: named.contactName?.split(" ")[0]?.toLowerCase() ?? "" });
    expect(byName.map((c) => c.id)).toContain(named.id);
    expect(byName.every((c) => (c.contactName ?? "").toLowerCase().includes(named.contactName?.split(" ")[0]?.toLowerCase() ?? "") || c.snippet.toLowerCase().includes(named.contactName?.split(" ")[0]?.toLowerCase() ?? ""))).toBe(true);

    const digits = named.contactNumber.slice(-7);
    const byNumber = await all(b, { search: `${digits.slice(0, 3)}-${digits.slice(3)}` });
    expect(byNumber.map((c) => c.contactNumber)).toContain(named.contactNumber);

    const byText = await all(b, { search: "water heater" });
    expect(byText.length).toBeGreaterThan(0);
    expect(byText.length).toBeLessThan(everyone.length);
  });

  it("filters: unread, needs reply, unbooked, booked, done", async () => {
    const b = make({ conversations: 200 });
    const everyone = await all(b);
    const unread = await all(b, { filter: "unread" });
    expect(unread.length).toBeGreaterThan(0);
    expect(unread.every((c) => c.unread > 0)).toBe(true);
    expect(unread.length).toBe(everyone.filter((c) => c.unread > 0).length);

    const booked = await all(b, { filter: "booked" });
    expect(booked.length).toBeGreaterThan(0);
    expect(booked.every((c) => c.leadState === "booked")).toBe(true);

    const done = await all(b, { filter: "done" });
    expect(done.length).toBeGreaterThan(0);
    expect(done.every((c) => c.done)).toBe(true);

    const unbooked = await all(b, { filter: "unbooked" });
    expect(unbooked.every((c) => !c.done && ["new", "texted", "replied"].includes(c.leadState ?? ""))).toBe(true);

    const needsReply = await all(b, { filter: "needs_reply" });
    expect(needsReply.length).toBeGreaterThan(0);
    expect(needsReply.every((c) => !c.done && !c.optedOut)).toBe(true);
  });

  it("counts unread conversations across the whole inbox, not just the page", async () => {
    const b = make({ conversations: 200 });
    const everyone = await all(b);
    const page = await b.inboxList(q({ limit: 5 }));
    expect(page.totalUnread).toBe(everyone.filter((c) => c.unread > 0).length);
  });
});

describe("fake backend: threads and replies", () => {
  it("opening a thread marks it read and tells listeners", async () => {
    const b = make();
    const events: DomainEvent[] = [];
    await b.onEvents((e) => events.push(...e));
    const unread = (await all(b, { filter: "unread" }))[0] as ConversationSummary;
    const t = await b.conversationOpen(unread.id);
    expect(t.conversation.unread).toBe(0);
    await Promise.resolve();
    expect(events).toContainEqual(expect.objectContaining({ kind: "conversationChanged", conversationId: unread.id }));
    const again = await all(b, { filter: "unread" });
    expect(again.map((c) => c.id)).not.toContain(unread.id);
  });

  it("a reply is pending at once, then sent, then delivered, with a messageStatus event each step", async () => {
    vi.useFakeTimers();
    const b = make({ sendDelayMs: 500, deliverDelayMs: 1000 });
    const events: DomainEvent[] = [];
    await b.onEvents((e) => events.push(...e));
    const target = (await b.inboxList(q())).items.find((c) => !c.optedOut) as ConversationSummary;

    const msg = await b.conversationReply(target.id, "On our way!");
    expect(msg).toMatchObject({ kind: "message", direction: "outbound", status: "pending", body: "On our way!", automatic: false });

    const status = async () => ((await b.conversationOpen(target.id)).items.find((i) => i.id === msg.id) as Extract<TimelineItem, { kind: "message" }>).status;
    expect(await status()).toBe("pending");
    await vi.advanceTimersByTimeAsync(500);
    expect(await status()).toBe("sent");
    await vi.advanceTimersByTimeAsync(1000);
    expect(await status()).toBe("delivered");
    expect(events.filter((e) => e.kind === "messageStatus" && e.conversationId === target.id)).toHaveLength(2);

    // The replied conversation is now the newest, with the reply as its snippet.
    const top = (await b.inboxList(q({ limit: 1 }))).items[0];
    expect(top).toMatchObject({ id: target.id, snippet: "On our way!" });
  });

  it("refuses to text an opted-out contact with code opted_out", async () => {
    const b = make();
    const optedOut = (await all(b)).find((c) => c.optedOut) as ConversationSummary;
    expect(optedOut).toBeDefined();
    const t = await b.conversationOpen(optedOut.id);
    expect(t.canReply).toBe(false);
    expect(t.replyBlockedReason).toMatch(/STOP/);
    await expect(b.conversationReply(optedOut.id, "Hello?")).rejects.toMatchObject({ code: "opted_out" });
    const after = await b.conversationOpen(optedOut.id);
    expect(after.items.some((i) => i.kind === "message" && i.body === "Hello?")).toBe(false);
  });

  it("keeps replies pending while offline and sends them when back online", async () => {
    vi.useFakeTimers();
    const b = make({ sendDelayMs: 100 });
    const target = (await b.inboxList(q())).items.find((c) => !c.optedOut) as ConversationSummary;
    b.setOnline(false);
    const msg = await b.conversationReply(target.id, "We'll call you");
    await vi.advanceTimersByTimeAsync(5000);
    const status = await b.appStatus();
    expect(status).toMatchObject({ online: false, pendingOutbox: 1 });
    expect(status.offlineSince).not.toBeNull();
    expect((await b.conversationOpen(target.id)).items.find((i) => i.id === msg.id)).toMatchObject({ status: "pending" });

    b.setOnline(true);
    await vi.advanceTimersByTimeAsync(100);
    expect((await b.appStatus()).pendingOutbox).toBe(0);
    expect((await b.conversationOpen(target.id)).items.find((i) => i.id === msg.id)).toMatchObject({ status: "sent" });
  });

  it("starts a conversation with any number, normalising it to E.164, and rejects non-numbers", async () => {
    const b = make();
    const id = await b.conversationStart("(512) 555-0199", "Hi, it's Rivera Plumbing");
    const t = await b.conversationOpen(id);
    expect(t.conversation.contactNumber).toBe("+15125550199");
    expect(t.items.at(-1)).toMatchObject({ kind: "message", body: "Hi, it's Rivera Plumbing" });
    await expect(b.conversationStart("call me", "hi")).rejects.toMatchObject({ code: "invalid_input" });
  });

  it("records notes, assignment, booking with job value, and renames", async () => {
    const b = make();
    const c = (await b.inboxList(q())).items[0] as ConversationSummary;
    await b.conversationAddNote(c.id, "Gate code 4411");
    await b.conversationAssign(c.id, "Mike");
    await b.leadMarkBooked(c.id, 25_000);
    await b.contactRename(c.id, "Pat Doyle");
    const t = await b.conversationOpen(c.id);
    expect(t.items.at(-2)).toMatchObject({ kind: "note", body: "Gate code 4411" });
    expect(t.items.at(-1)).toMatchObject({ kind: "activity", action: "lead_booked" });
    expect(t.conversation).toMatchObject({ assignedTo: "Mike", leadState: "booked", contactName: "Pat Doyle" });
    expect(t.jobValueCents).toBe(25_000);
  });

  it("rejects unknown conversations with not_found", async () => {
    const b = make();
    await expect(b.conversationOpen(999_999)).rejects.toMatchObject({ code: "not_found" });
  });

  it("batches events emitted in one tick into one array", async () => {
    const b = make();
    const batches: DomainEvent[][] = [];
    await b.onEvents((e) => batches.push(e));
    const c = (await b.inboxList(q())).items[0] as ConversationSummary;
    b.receive(c.id, "Are you coming?");
    b.receive(c.id, "Hello??");
    await Promise.resolve();
    expect(batches).toHaveLength(1);
    expect(batches[0]?.map((e) => e.kind)).toEqual(["messageReceived", "messageReceived"]);
  });
});

describe("fake backend: settings, templates, provider", () => {
  it("rejects invalid settings with invalid_input naming the field", async () => {
    const b = make();
    const s = await b.settingsGet();
    await expect(b.settingsSave({ ...s, hours: { ...s.hours, mon: "8 till late" } })).rejects.toMatchObject({ code: "invalid_input", message: expect.stringMatching(/^hours\.mon:/) });
    await expect(b.settingsSave({ ...s, templateAfterHours: "Hi {nmae}" })).rejects.toMatchObject({ code: "invalid_input", message: expect.stringMatching(/^templateAfterHours:.*\{nmae\}/) });
    await expect(b.settingsSave({ ...s, pollInterval: "1s" })).rejects.toMatchObject({ message: expect.stringMatching(/^pollInterval: set by an environment variable/) });
    const saved = await b.settingsSave({ ...s, businessName: "Rivera & Sons" });
    expect(saved.businessName).toBe("Rivera & Sons");
    expect((await b.appStatus()).businessName).toBe("Rivera & Sons");
  });

  it("previews templates with placeholders filled and reports errors and segments", async () => {
    const b = make();
    const ok = await b.templatePreview("Thanks for calling {business}!");
    expect(ok).toEqual({ rendered: "Thanks for calling Rivera Plumbing & Heating!", error: null, segments: { encoding: "gsm7", units: 45, segments: 1 } });
    const bad = await b.templatePreview("Hi {oops");
    expect(bad.rendered).toBeNull();
    expect(bad.error).toMatch(/Unclosed \{/);
  });

  it("turns off this desk's responder when settings say so, which app_status reports", async () => {
    const b = make();
    const s = await b.settingsGet();
    await b.settingsSave({ ...s, responder: false });
    const st = await b.appStatus();
    expect(st.responders.find((r) => r.thisDesk)).toMatchObject({ running: false });
  });

  it("rejects wrong provider credentials with code auth, and finishing switches to live", async () => {
    const b = make();
    const sid = "AC" + "0".repeat(32);
    await expect(b.providerConnect({ accountSid: sid, authToken: "nope" })).rejects.toMatchObject({ code: "auth" });
    await expect(b.providerConnect({ accountSid: "hello", authToken: "a".repeat(32) })).rejects.toMatchObject({ code: "invalid_input" });
    const { numbers } = await b.providerConnect({ accountSid: sid, authToken: "a".repeat(32) });
    expect(numbers.length).toBeGreaterThan(0);
    await b.providerFinishConnect(numbers.slice(0, 1), false);
    const st = await b.appStatus();
    expect(st.mode).toBe("live");
    expect(st.responders).toEqual([{ number: numbers[0], thisDesk: false, running: false }]);
  });
});
