/**
 * How an escalation and the lead's history read on a thread: the banner's lines and the
 * timeline's activity entries. Pure (times are formatted by the caller's formatter), so it is
 * tested without a DOM. Names and reasons are text from elsewhere: they are returned as
 * strings for `{text}` interpolation, never as markup.
 */
import type { EscalationInfo } from "../backend/bindings/EscalationInfo";
import type { TimelineItem } from "../backend/bindings/TimelineItem";

export type ActivityItem = Extract<TimelineItem, { kind: "activity" }>;

/** One round of pages: when, and who (with how each was reached). */
export type PageRound = { round: number; at: string; people: string[] };

export function pageRounds(e: EscalationInfo): PageRound[] {
  const rounds = new Map<number, PageRound>();
  for (const p of e.pages) {
    const r = rounds.get(p.round) ?? { round: p.round, at: p.sentAt, people: [] };
    r.people.push(p.phone ? `${p.staff} (texted)` : `${p.staff} (desktop alert)`);
    if (p.sentAt < r.at) r.at = p.sentAt;
    rounds.set(p.round, r);
  }
  return [...rounds.values()].sort((a, b) => a.round - b.round);
}

export function isOpen(e: EscalationInfo | null): e is EscalationInfo {
  return e !== null && e.acknowledgedAt === null;
}

/** `round 2: Maria, Mike` (the engine's audit detail) → round and names, if it reads so. */
function parseRound(detail: string | null): { round: number; names: string } | null {
  const m = detail ? /^round (\d+): (.*)$/s.exec(detail) : null;
  return m ? { round: Number(m[1]), names: m[2] ?? "" } : null;
}

const LOST_REASONS: Record<string, string> = {
  inactive: "Closed as lost: nothing happened for a while",
  superseded: "Closed: a newer missed call started a new lead",
};

/** The headline and optional detail line of an activity entry on the timeline. */
export function activityText(item: ActivityItem): { headline: string; detail: string | null; tone: "danger" | "ok" | "neutral" } {
  const by = item.actor === "engine" ? "Textback" : item.actor;
  switch (item.action) {
    case "escalated":
      return { headline: "Escalated: needs a person now", detail: item.detail, tone: "danger" };
    case "escalation_reason_added":
      return { headline: "Escalated again", detail: item.detail, tone: "danger" };
    case "escalation_paged": {
      const r = parseRound(item.detail);
      if (!r) return { headline: "Paged staff", detail: item.detail, tone: "neutral" };
      return { headline: r.round === 0 ? `Paged ${r.names}` : `Paged again (round ${r.round + 1}): ${r.names}`, detail: null, tone: "neutral" };
    }
    case "escalation_acknowledged":
      return { headline: `${by} took it`, detail: "Paging stopped", tone: "ok" };
    case "lead_booked":
      return { headline: `Marked booked by ${by}`, detail: item.detail && item.detail !== "booked" ? item.detail : null, tone: "ok" };
    case "lead_lost":
      if (item.actor === "engine" && item.detail && LOST_REASONS[item.detail]) {
        return { headline: LOST_REASONS[item.detail] as string, detail: null, tone: "neutral" };
      }
      return { headline: `Marked lost by ${by}`, detail: item.detail && item.detail !== "lost" ? item.detail : null, tone: "neutral" };
    case "lead_opted_out":
      return { headline: "Opted out: the lead is closed", detail: null, tone: "neutral" };
    case "booking_cancelled":
      return { headline: `Booking cancelled (${by})`, detail: item.detail, tone: "neutral" };
    default:
      return { headline: item.action.replace(/_/g, " "), detail: item.detail, tone: "neutral" };
  }
}
