/** The settings form: a draft of the saved settings, saved whole, errors pinned to fields. */
import type { Backend } from "../backend/backend";
import type { Settings } from "../backend/bindings/Settings";
import { toIpcError } from "../backend/errors";

export type SettingsField = Exclude<keyof Settings, "envLocked">;

export const SETTINGS_FIELDS: SettingsField[] = [
  "businessName", "timeZone", "bookingLink", "hours", "holidays", "templateBusinessHours", "templateAfterHours",
  "dedupeWindow", "pollInterval", "responder", "staff", "alertRepeat", "cannedReplies", "launchAtLogin",
  "followup", "sendingHours", "escalation", "compliance", "shifts",
];

/** "pollInterval" → "TEXTBACK_POLL_INTERVAL" */
export function envVarFor(field: string): string {
  return `TEXTBACK_${field.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()}`;
}

const snake = (f: string) => f.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();

/**
 * Which field an `invalid_input` message names. The shell puts the field first
 * ("hours.mon: …", "template_after_hours: …"); failing that, any field name in the text.
 */
export function fieldFromError(message: string, fields: readonly string[] = SETTINGS_FIELDS): string | null {
  const lead = /^\s*([A-Za-z_]+)(?:[.[][^:]*)?\s*:/.exec(message)?.[1];
  if (lead) {
    const hit = fields.find((f) => f === lead || snake(f) === lead);
    if (hit) return hit;
  }
  for (const f of fields) {
    if (new RegExp(`\\b(${f}|${snake(f)})\\b`).test(message)) return f;
  }
  return null;
}

/**
 * The config key an error leads with: "shifts.rota[2].hours: …" → "shifts.rota[2].hours",
 * "shifts.on_call names …" → "shifts.on_call". Null when the message starts with words.
 */
export function errorPath(message: string): string | null {
  const m = /^\s*([A-Za-z_]+(?:\[\d+\])?(?:\.[A-Za-z_]+(?:\[\d+\])?)*)(?=:|\s)/.exec(message);
  const path = m?.[1];
  if (!path) return null;
  const top = path.split(/[.[]/)[0] ?? "";
  return SETTINGS_FIELDS.some((f) => f === top || snake(f) === top) ? path : null;
}

/** The settings field a config key belongs to: "sending_hours.window" → "sendingHours". */
export function fieldOfPath(path: string): string | null {
  const top = path.split(/[.[]/)[0] ?? "";
  return SETTINGS_FIELDS.find((f) => f === top || snake(f) === top) ?? null;
}

export class SettingsStore {
  saved = $state<Settings | null>(null);
  draft = $state<Settings | null>(null);
  loading = $state(false);
  saving = $state(false);
  /** An error no field claims. */
  error = $state<string | null>(null);
  fieldErrors = $state<Partial<Record<string, string>>>({});
  /** The config key the last save error named ("followup.touches[1].delay"), if any. */
  errorKey = $state<string | null>(null);
  savedAt = $state<number | null>(null);
  readonly dirty = $derived(JSON.stringify(this.saved) !== JSON.stringify(this.draft));
  readonly #backend: Backend;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  async load(): Promise<void> {
    this.loading = true;
    this.error = null;
    try {
      const s = await this.#backend.settingsGet();
      this.saved = s;
      this.draft = structuredClone(s);
    } catch (e) {
      this.error = toIpcError(e).message;
    } finally {
      this.loading = false;
    }
  }

  locked(field: string): boolean {
    return this.saved?.envLocked.includes(field) ?? false;
  }

  reset(): void {
    if (this.saved) this.draft = structuredClone($state.snapshot(this.saved));
    this.fieldErrors = {};
    this.errorKey = null;
    this.error = null;
  }

  /** The save error about exactly `key`, without the key in front; null if none. */
  errorAt(key: string): string | null {
    if (this.errorKey !== key) return null;
    const field = fieldOfPath(key);
    const message = (field && this.fieldErrors[field]) || "";
    return message.startsWith(`${key}: `) ? message.slice(key.length + 2) : message || null;
  }

  /** Whether the save error is about `prefix` or a key inside it ("shifts.rota[2]"). */
  errorWithin(prefix: string): boolean {
    const k = this.errorKey;
    return k !== null && (k === prefix || k.startsWith(`${prefix}.`) || k.startsWith(`${prefix}[`));
  }

  async save(): Promise<boolean> {
    if (!this.draft) return false;
    this.saving = true;
    this.error = null;
    this.fieldErrors = {};
    this.errorKey = null;
    try {
      const s = await this.#backend.settingsSave($state.snapshot(this.draft));
      this.saved = s;
      this.draft = structuredClone(s);
      this.savedAt = Date.now();
      return true;
    } catch (e) {
      const err = toIpcError(e);
      const key = err.code === "invalid_input" ? errorPath(err.message) : null;
      const field = key ? fieldOfPath(key) : err.code === "invalid_input" ? fieldFromError(err.message) : null;
      this.errorKey = key;
      if (field) this.fieldErrors = { [field]: err.message };
      else this.error = err.message;
      return false;
    } finally {
      this.saving = false;
    }
  }
}
