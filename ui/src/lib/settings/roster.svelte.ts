/** The rota screen's live half: the week view and "on shift now", from the saved rota. */
import type { Backend } from "../backend/backend";
import type { RosterNow } from "../backend/bindings/RosterNow";
import type { RosterWeek } from "../backend/bindings/RosterWeek";
import { toIpcError } from "../backend/errors";
import { shiftWeek } from "./rota";

export class RosterStore {
  week = $state<RosterWeek | null>(null);
  now = $state<RosterNow | null>(null);
  /** null: this week. */
  weekStart = $state<string | null>(null);
  error = $state<string | null>(null);
  loading = $state(false);
  readonly #backend: Backend;
  #seq = 0;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  async load(): Promise<void> {
    const mine = ++this.#seq;
    this.loading = true;
    try {
      const [week, now] = await Promise.all([this.#backend.rosterWeek(this.weekStart), this.#backend.rosterNow()]);
      if (mine !== this.#seq) return;
      this.week = week;
      this.now = now;
      this.error = null;
    } catch (e) {
      if (mine === this.#seq) this.error = toIpcError(e).message;
    } finally {
      if (mine === this.#seq) this.loading = false;
    }
  }

  async move(weeks: number): Promise<void> {
    const from = this.week?.weekStart ?? this.weekStart;
    if (!from) return;
    this.weekStart = shiftWeek(from, weeks);
    await this.load();
  }

  async thisWeek(): Promise<void> {
    this.weekStart = null;
    await this.load();
  }
}
