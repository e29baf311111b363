/**
 * The open conversation: its timeline, the reply in progress (one draft per conversation)
 * and the actions on it. Every change to the conversation's summary is reported through
 * `onSummary` so the list row updates at once, without waiting for the event round trip.
 */
import type { Backend } from "../backend/backend";
import type { ConversationSummary } from "../backend/bindings/ConversationSummary";
import type { DomainEvent } from "../backend/bindings/DomainEvent";
import type { Thread } from "../backend/bindings/Thread";
import type { TimelineItem } from "../backend/bindings/TimelineItem";
import { toIpcError } from "../backend/errors";

export type ReplyOutcome = "sent" | "queued" | "blocked" | "failed";

export class ThreadStore {
  thread = $state<Thread | null>(null);
  loading = $state(false);
  error = $state<string | null>(null);
  sending = $state(false);
  /** Why the last reply did not go (opted out, invalid…); shown next to the reply box. */
  replyError = $state<string | null>(null);
  /** Shown after a reply was queued while offline. */
  replyNotice = $state<string | null>(null);
  actionError = $state<string | null>(null);
  /** An "I've got it" is on its way. */
  acknowledging = $state(false);
  drafts = $state<Record<number, string>>({});

  readonly #backend: Backend;
  readonly #onSummary: (s: ConversationSummary) => void;
  #gen = 0;
  #refreshing: Promise<void> | null = null;
  #refreshAgain = false;

  constructor(backend: Backend, onSummary: (s: ConversationSummary) => void = () => {}) {
    this.#backend = backend;
    this.#onSummary = onSummary;
  }

  get id(): number | null {
    return this.thread?.conversation.id ?? null;
  }

  get draft(): string {
    const id = this.id;
    return id === null ? "" : (this.drafts[id] ?? "");
  }

  set draft(value: string) {
    const id = this.id;
    if (id !== null) this.drafts[id] = value;
  }

  async open(id: number): Promise<void> {
    const gen = ++this.#gen;
    if (this.id !== id) {
      this.thread = null;
      this.replyError = null;
      this.replyNotice = null;
      this.actionError = null;
    }
    this.loading = true;
    this.error = null;
    try {
      const t = await this.#backend.conversationOpen(id);
      if (gen !== this.#gen) return;
      this.#onSummary({ ...t.conversation });
      this.thread = t;
    } catch (e) {
      if (gen === this.#gen) this.error = toIpcError(e).message;
    } finally {
      if (gen === this.#gen) this.loading = false;
    }
  }

  close(): void {
    this.#gen++;
    this.thread = null;
    this.loading = false;
    this.error = null;
  }

  /** Live update: re-read the open thread if any event concerns it (coalesced). */
  async applyEvents(events: DomainEvent[]): Promise<void> {
    const id = this.id;
    if (id === null || !events.some((e) => e.conversationId === id)) return;
    if (this.#refreshing) {
      this.#refreshAgain = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      do {
        this.#refreshAgain = false;
        const gen = this.#gen;
        try {
          const t = await this.#backend.conversationOpen(id);
          if (gen === this.#gen && this.id === id) {
            this.#onSummary({ ...t.conversation });
            this.thread = t;
          }
        } catch (e) {
          if (gen === this.#gen) this.error = toIpcError(e).message;
        }
      } while (this.#refreshAgain);
    })();
    try {
      await this.#refreshing;
    } finally {
      this.#refreshing = null;
    }
  }

  async reply(body: string): Promise<ReplyOutcome> {
    const t = this.thread;
    if (!t || !body.trim()) return "failed";
    const id = t.conversation.id;
    if (!t.canReply) {
      this.replyError = t.replyBlockedReason ?? "Replies to this conversation are blocked.";
      return "blocked";
    }
    this.sending = true;
    this.replyError = null;
    this.replyNotice = null;
    try {
      const item = await this.#backend.conversationReply(id, body);
      this.drafts[id] = "";
      if (this.id === id && this.thread) {
        this.#addItem(item);
        this.#patch({ snippet: body, lastActivityAt: item.at, unread: 0 });
      }
      return "sent";
    } catch (e) {
      const err = toIpcError(e);
      if (err.code === "opted_out") {
        this.replyError = err.message;
        if (this.id === id && this.thread) {
          this.thread.canReply = false;
          this.thread.replyBlockedReason = err.message;
        }
        return "blocked";
      }
      if (err.code === "offline") {
        // The shell queued it in the outbox; the pending message arrives with the refresh.
        this.drafts[id] = "";
        this.replyNotice = "Offline: your reply is queued and will send when the connection is back.";
        void this.applyEvents([{ kind: "conversationChanged", conversationId: id, summary: "" }]);
        return "queued";
      }
      this.replyError = err.message;
      return "failed";
    } finally {
      this.sending = false;
    }
  }

  async addNote(body: string): Promise<boolean> {
    const id = this.id;
    if (id === null || !body.trim()) return false;
    return this.#act(async () => {
      const item = await this.#backend.conversationAddNote(id, body);
      if (this.id === id) this.#addItem(item);
    });
  }

  markUnread(): Promise<boolean> {
    const id = this.id;
    if (id === null) return Promise.resolve(false);
    return this.#act(async () => {
      await this.#backend.conversationMarkRead(id, false);
      this.#patch({ unread: Math.max(1, this.thread?.conversation.unread ?? 0) });
    });
  }

  markDone(done: boolean): Promise<boolean> {
    return this.#withId((id) => this.#backend.conversationMarkDone(id, done), { done, ...(done ? { unread: 0 } : {}) });
  }

  assign(staff: string | null): Promise<boolean> {
    const name = staff && staff.trim() ? staff.trim() : null;
    return this.#withId((id) => this.#backend.conversationAssign(id, name), { assignedTo: name });
  }

  markBooked(jobValueCents: number | null): Promise<boolean> {
    return this.#withId(async (id) => {
      await this.#backend.leadMarkBooked(id, jobValueCents);
      if (this.thread && this.id === id) this.thread.jobValueCents = jobValueCents;
    }, { leadState: "booked", escalated: false });
  }

  markLost(): Promise<boolean> {
    return this.#withId((id) => this.#backend.leadMarkLost(id), { leadState: "lost", escalated: false });
  }

  /**
   * "I've got it": takes the thread's open escalation, so paging stops. The answer says who
   * has it (another desk may have been first); the timeline's entry comes with the refresh.
   */
  async acknowledge(): Promise<boolean> {
    const id = this.id;
    const escalation = this.thread?.escalation;
    if (id === null || !escalation || this.acknowledging) return false;
    this.acknowledging = true;
    try {
      return await this.#act(async () => {
        const taken = await this.#backend.escalationAcknowledge(escalation.id);
        if (this.id !== id || !this.thread) return;
        this.thread.escalation = taken;
        this.#patch({ escalated: false });
        await this.applyEvents([{ kind: "escalation", conversationId: id, summary: "" }]);
      });
    } finally {
      this.acknowledging = false;
    }
  }

  rename(name: string): Promise<boolean> {
    return this.#withId((id) => this.#backend.contactRename(id, name), { contactName: name.trim() || null });
  }

  #withId(run: (id: number) => Promise<void>, patch: Partial<ConversationSummary>): Promise<boolean> {
    const id = this.id;
    if (id === null) return Promise.resolve(false);
    return this.#act(async () => {
      await run(id);
      if (this.id === id) this.#patch(patch);
    });
  }

  async #act(run: () => Promise<void>): Promise<boolean> {
    this.actionError = null;
    try {
      await run();
      return true;
    } catch (e) {
      this.actionError = toIpcError(e).message;
      return false;
    }
  }

  #addItem(item: TimelineItem) {
    if (!this.thread) return;
    if (this.thread.items.some((i) => i.kind === item.kind && i.id === item.id)) return;
    this.thread.items.push(item);
  }

  #patch(patch: Partial<ConversationSummary>) {
    if (!this.thread) return;
    Object.assign(this.thread.conversation, patch);
    this.#onSummary($state.snapshot(this.thread.conversation));
  }
}
