import type { LeadState } from "../backend/bindings/LeadState";

export type LeadTone = "neutral" | "accent" | "ok" | "warn" | "danger";

const LEAD: Record<LeadState, { label: string; tone: LeadTone; hint: string }> = {
  new: { label: "New", tone: "neutral", hint: "Not texted yet" },
  texted: { label: "Texted", tone: "accent", hint: "Texted back, no reply yet" },
  replied: { label: "Replied", tone: "warn", hint: "The caller replied: follow up" },
  booked: { label: "Booked", tone: "ok", hint: "Job booked" },
  lost: { label: "Lost", tone: "neutral", hint: "Marked lost" },
  opted_out: { label: "Opted out", tone: "danger", hint: "Replied STOP: no texts will be sent" },
};

/** The badge for a conversation; opt-out wins over any other state. */
export function leadBadge(state: LeadState | null, optedOut: boolean): { state: LeadState; label: string; tone: LeadTone; hint: string } | null {
  const s: LeadState | null = optedOut ? "opted_out" : state;
  if (!s) return null;
  return { state: s, ...LEAD[s] };
}
