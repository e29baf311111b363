/**
 * The conversation list: one query (search + filter), pages appended with the `before`
 * cursor, a keyboard cursor (`activeId`) and the open conversation (`selectedId`).
 * Live events refresh the head of the list and merge it in place: no full reload, and
 * pages already scrolled through stay put.
 */
import type { Backend } from "../backend/backend";
import type { ConversationSummary } from "../backend/bindings/ConversationSummary";
import type { DomainEvent } from "../backend/bindings/DomainEvent";
import type { InboxPage } from "../backend/bindings/InboxPage";
import type { InboxQuery } from "../backend/bindings/InboxQuery";
import { toIpcError } from "../backend/errors";
import { nextIndex } from "./listNav";

export type InboxFilter = InboxQuery["filter"];

export const FILTERS: { value: InboxFilter; label: string }[] = [
  { value: "all", label: "All" },
  { value: "unread", label: "Unread" },
  { value: "needs_reply", label: "Needs reply" },
  { value: "escalated", label: "Escalated" },
  { value: "unbooked", label: "Unbooked" },
  { value: "booked", label: "Booked" },
  { value: "done", label: "Done" },
];

/**
 * Whether a row (as a thread action left it) still belongs under `filter`, as far as the row
 * tells: "needs reply" depends on who wrote last, which the row does not carry, so it is kept.
 */
export function fitsFilter(c: ConversationSummary, filter: InboxFilter): boolean {
  switch (filter) {
    case "all": return !c.done;
    case "unread": return c.unread > 0;
    case "needs_reply": return true;
    case "unbooked": return c.leadState === "new" || c.leadState === "texted" || c.leadState === "replied";
    case "booked": return c.leadState === "booked";
    case "done": return c.done;
    case "escalated": return c.escalated;
  }
}

export class InboxStore {
  // Raw: rows are replaced, never mutated, so 50,000 of them cost no proxies.
  items = $state.raw<ConversationSummary[]>([]);
  nextCursor = $state<string | null>(null);
  totalUnread = $state(0);
  search = $state("");
  filter = $state<InboxFilter>("all");
  loading = $state(false);
  loadingMore = $state(false);
  error = $state<string | null>(null);
  /** Keyboard cursor. */
  activeId = $state<number | null>(null);
  /** The conversation open in the thread pane. */
  selectedId = $state<number | null>(null);
  readonly activeIndex = $derived(this.activeId === null ? -1 : this.items.findIndex((c) => c.id === this.activeId));

  readonly #backend: Backend;
  readonly pageSize: number;
  /** Bumped on every new query; answers to an older query are dropped. */
  #generation = 0;

  constructor(backend: Backend, pageSize = 100) {
    this.#backend = backend;
    this.pageSize = pageSize;
  }

  query(before: string | null, limit = this.pageSize): InboxQuery {
    return { search: this.search.trim() || null, filter: this.filter, before, limit };
  }

  async reload(): Promise<void> {
    const gen = ++this.#generation;
    this.loading = true;
    this.error = null;
    try {
      const page = await this.#backend.inboxList(this.query(null));
      if (gen !== this.#generation) return;
      this.items = page.items;
      this.nextCursor = page.nextCursor;
      this.totalUnread = page.totalUnread;
      if (this.activeIndex < 0) this.activeId = page.items[0]?.id ?? null;
    } catch (e) {
      if (gen === this.#generation) this.error = toIpcError(e).message;
    } finally {
      if (gen === this.#generation) this.loading = false;
    }
  }

  async loadMore(): Promise<void> {
    const cursor = this.nextCursor;
    if (this.loading || this.loadingMore || !cursor) return;
    const gen = this.#generation;
    this.loadingMore = true;
    try {
      const page = await this.#backend.inboxList(this.query(cursor));
      if (gen !== this.#generation) return;
      // eslint-disable-next-line svelte/prefer-svelte-reactivity -- local lookup, never observed
      const have = new Set(this.items.map((c) => c.id));
      this.items = this.items.concat(page.items.filter((c) => !have.has(c.id)));
      this.nextCursor = page.nextCursor;
      this.totalUnread = page.totalUnread;
    } catch (e) {
      if (gen === this.#generation) this.error = toIpcError(e).message;
    } finally {
      this.loadingMore = false;
    }
  }

  setSearch(search: string): Promise<void> {
    this.search = search;
    return this.reload();
  }

  setFilter(filter: InboxFilter): Promise<void> {
    this.filter = filter;
    return this.reload();
  }

  /** Live update: re-read the head of the list and merge it in. */
  async applyEvents(events: DomainEvent[]): Promise<void> {
    if (!events.some((e) => e.conversationId !== null)) return;
    const gen = this.#generation;
    try {
      const page = await this.#backend.inboxList(this.query(null, Math.max(this.pageSize, 50)));
      if (gen === this.#generation) this.mergeHead(page);
    } catch (e) {
      if (gen === this.#generation) this.error = toIpcError(e).message;
    }
  }

  /**
   * Merge a fresh first page. Rows in the head replace their old copies (and move up if
   * their activity is newer). A row we hold that is as new as the head's oldest row but is
   * not in the head no longer matches the query (marked done under "Needs reply", say), so
   * it goes. Older rows are beyond what the head can tell us about and stay as they are.
   */
  mergeHead(page: InboxPage): void {
    const head = page.items;
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- local lookup, never observed
    const headIds = new Set(head.map((c) => c.id));
    const oldest = head[head.length - 1]?.lastActivityAt ?? null;
    const complete = page.nextCursor === null;
    const rest = this.items.filter(
      (c) => !headIds.has(c.id) && !complete && oldest !== null && Date.parse(c.lastActivityAt) < Date.parse(oldest),
    );
    this.items = head.concat(rest);
    if (rest.length === 0) this.nextCursor = page.nextCursor;
    this.totalUnread = page.totalUnread;
    if (this.activeIndex < 0) this.activeId = this.items[0]?.id ?? null;
  }

  /**
   * A row's new state from a thread action or open; kept in place, moved up if newer. A row
   * the list does not hold joins it only if it fits the filter (an escalation just taken
   * does not come back under "Escalated").
   */
  upsert(summary: ConversationSummary): void {
    const i = this.items.findIndex((c) => c.id === summary.id);
    if (i < 0) {
      if (!fitsFilter(summary, this.filter)) return;
      const first = this.items[0];
      if (!first || Date.parse(summary.lastActivityAt) >= Date.parse(first.lastActivityAt)) this.items = [summary, ...this.items];
      return;
    }
    const old = this.items[i] as ConversationSummary;
    if (summary.lastActivityAt !== old.lastActivityAt && i > 0) {
      this.items = [summary, ...this.items.slice(0, i), ...this.items.slice(i + 1)];
    } else {
      const next = this.items.slice();
      next[i] = summary;
      this.items = next;
    }
  }

  move(delta: number): void {
    const i = nextIndex(this.activeIndex, delta, this.items.length);
    this.activeId = i < 0 ? null : (this.items[i]?.id ?? null);
  }

  /** Opens the row under the keyboard cursor; returns its id. */
  openActive(): number | null {
    if (this.activeId !== null) this.selectedId = this.activeId;
    return this.selectedId;
  }

  select(id: number | null): void {
    this.selectedId = id;
    if (id !== null) this.activeId = id;
  }
}
