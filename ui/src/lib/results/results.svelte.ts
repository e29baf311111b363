/**
 * The owner's results: the chosen period (a preset or custom dates, in the business's time
 * zone), the bucket size, and the funnel the backend answers for them. Answers to an older
 * choice are dropped.
 */
import type { Backend } from "../backend/backend";
import type { Funnel } from "../backend/bindings/Funnel";
import type { FunnelBucket } from "../backend/bindings/FunnelBucket";
import { toIpcError } from "../backend/errors";
import { csvFileName, funnelCsv } from "./csv";
import { dateIn, defaultBucket, resolvePeriod, type Period, type Preset } from "./period";

/** "45%" of `of`, or "–" when there is nothing to take a share of. */
export function share(n: number, of: number): string {
  if (of <= 0) return "–";
  return `${Math.round((n / of) * 100)}%`;
}

export class ResultsStore {
  preset = $state<Preset>("last_4_weeks");
  bucket = $state<FunnelBucket>("day");
  customFrom = $state("");
  customTo = $state("");
  funnel = $state.raw<Funnel | null>(null);
  loading = $state(false);
  error = $state<string | null>(null);

  readonly #backend: Backend;
  readonly #timeZone: () => string | null;
  readonly #now: () => Date;
  #generation = 0;

  /** `timeZone`: the business's (from the settings); null until they are loaded. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a fresh instant per call, never observed
  constructor(backend: Backend, timeZone: () => string | null, now: () => Date = () => new Date()) {
    this.#backend = backend;
    this.#timeZone = timeZone;
    this.#now = now;
  }

  /** Today in the business's time zone. */
  get today(): string {
    return dateIn(this.#timeZone(), this.#now());
  }

  /** The dates the current choice covers, or why it cannot be shown. */
  get period(): Period | { error: string } {
    return resolvePeriod(this.preset, this.today, { from: this.customFrom, to: this.customTo });
  }

  async load(): Promise<void> {
    const gen = ++this.#generation;
    const period = this.period;
    if ("error" in period) {
      this.error = period.error;
      this.funnel = null;
      return;
    }
    this.loading = true;
    this.error = null;
    try {
      const funnel = await this.#backend.resultsFunnel({ ...period, bucket: this.bucket });
      if (gen === this.#generation) this.funnel = funnel;
    } catch (e) {
      if (gen === this.#generation) this.error = toIpcError(e).message;
    } finally {
      if (gen === this.#generation) this.loading = false;
    }
  }

  /** A preset picks its own bucket size (days for up to two months); custom keeps the dates. */
  setPreset(preset: Preset): Promise<void> {
    this.preset = preset;
    const period = this.period;
    if (preset === "custom" && "error" in period) {
      // Start the custom dates from what was on screen.
      this.customFrom = this.funnel?.from ?? this.today;
      this.customTo = this.funnel?.to ?? this.today;
    }
    const p = this.period;
    if (!("error" in p)) this.bucket = defaultBucket(p);
    return this.load();
  }

  setCustom(from: string, to: string): Promise<void> {
    this.preset = "custom";
    this.customFrom = from;
    this.customTo = to;
    return this.load();
  }

  setBucket(bucket: FunnelBucket): Promise<void> {
    this.bucket = bucket;
    return this.load();
  }

  /** The shown results as a CSV file (name and text), or null before they are loaded. */
  csv(): { name: string; text: string } | null {
    const f = this.funnel;
    return f ? { name: csvFileName(f), text: funnelCsv(f) } : null;
  }
}
