/** App status (mode, connectivity, responders) and the banners it calls for. */
import type { Backend } from "../backend/backend";
import type { AppStatus } from "../backend/bindings/AppStatus";
import type { DomainEvent } from "../backend/bindings/DomainEvent";
import { toIpcError } from "../backend/errors";

export type Responder = AppStatus["responders"][number];

export class StatusStore {
  status = $state<AppStatus | null>(null);
  error = $state<string | null>(null);
  readonly idleResponders: Responder[] = $derived(this.status?.responders.filter((r) => !r.running) ?? []);
  readonly #backend: Backend;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  async refresh(): Promise<void> {
    try {
      this.status = await this.#backend.appStatus();
      this.error = null;
    } catch (e) {
      this.error = toIpcError(e).message;
    }
  }

  /** Any batch may change the outbox count or connectivity; the status call is cheap. */
  async applyEvents(_events: DomainEvent[]): Promise<void> {
    await this.refresh();
  }
}

/** "Offline since 10:42 — 2 replies waiting to send" */
export function offlineText(status: AppStatus, clock: (iso: string) => string): string {
  const since = status.offlineSince ? `Offline since ${clock(status.offlineSince)}` : "Offline";
  const n = status.pendingOutbox;
  if (n === 0) return `${since}. Calls and texts will sync when the connection is back.`;
  return `${since} — ${n} ${n === 1 ? "reply" : "replies"} waiting to send`;
}
