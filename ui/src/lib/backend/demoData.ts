/**
 * Deterministic demo conversations for the in-memory fake: a plumbing & heating business's
 * week of missed calls, text-backs and replies. The same id always yields the same timeline,
 * so 50,000 conversations can be summarised up front and their timelines rebuilt on open.
 */
import type { ConversationSummary } from "./bindings/ConversationSummary";
import type { LeadState } from "./bindings/LeadState";
import type { TimelineItem } from "./bindings/TimelineItem";

export const BUSINESS_NAME = "Rivera Plumbing & Heating";
export const MAIN_NUMBER = "+15125550100";
export const SECOND_NUMBER = "+15125550123";
export const BOOKING_LINK = "https://rivera-plumbing.example/book";
export const STAFF = ["Maria", "Mike", "Dee"];

const FIRST = ["Sam", "Priya", "Jorge", "Linda", "Kevin", "Aisha", "Tom", "Mei", "Carlos", "Beth",
  "Omar", "Grace", "Derek", "Fatima", "Luis", "Nora", "Ray", "Yuki", "Hannah", "Andre"];
const LAST = ["Ortiz", "Nguyen", "Patel", "Schmidt", "Okafor", "Brennan", "Kowalski", "Haddad",
  "Larsen", "Moreau", "Tanaka", "Reyes", "Walsh", "Dubois", "Ibrahim", "Fischer"];

const TEXT_BACK =
  "Sorry we missed your call! This is Rivera Plumbing & Heating. How can we help? You can also book here: " +
  BOOKING_LINK;
const PROBLEMS = [
  "Hi, my water heater is leaking from the bottom. Can someone come today?",
  "Kitchen sink is backed up and won't drain. How soon can you get here?",
  "Our furnace is blowing cold air 🥶 do you do same-day repairs?",
  "Need a quote to replace a toilet, upstairs bathroom",
  "Hi! Got your text. There's water coming through the ceiling under the bathroom",
  "AC stopped working, thermostat says 84°. Any openings this week?",
  "Do you guys do sewer line camera inspections? Buying a house on Elm St",
  "Garbage disposal hums but doesn't spin. Worth fixing or replace?",
];
const STAFF_REPLIES = [
  "Hi, this is Maria at Rivera. We can have a tech there between 2 and 4 today. Does that work?",
  "Thanks for the details! Mike can come by tomorrow at 9am. Shall I book it?",
  "We can do that. The diagnostic visit is $89, credited toward the repair.",
];
const CUSTOMER_FOLLOWUPS = ["Perfect, see you then", "Yes please book it", "2-4 works, thank you!", "ok great 👍"];
const LOST_REPLIES = ["Never mind, found someone else. Thanks", "Too expensive for us right now, sorry"];

/** Small seeded PRNG (mulberry32) so demo data is stable across reloads and tests. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)] as T;
}

export function iso(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

export type DemoConversation = {
  summary: ConversationSummary;
  items: TimelineItem[];
  jobValueCents: number | null;
  needsReply: boolean;
};

type Scenario =
  | "texted" | "replied" | "booked" | "lost" | "opted_out" | "already_texted" | "landline"
  | "answered" | "mms" | "failed" | "late" | "voicemail" | "anonymous";
const SCENARIOS: Scenario[] = [
  "replied", "texted", "booked", "replied", "mms", "opted_out", "already_texted", "landline",
  "answered", "booked", "failed", "late", "voicemail", "lost", "anonymous", "texted", "replied", "booked",
];

/**
 * Builds conversation `id` whose last activity is at `endMs`. `fresh` conversations keep
 * their unread counts; older ones have been read (and often marked done).
 */
export function buildDemoConversation(id: number, endMs: number, fresh: boolean): DemoConversation {
  const r = rng(id * 7919 + 17);
  const scenario: Scenario = id <= SCENARIOS.length ? (SCENARIOS[id - 1] as Scenario) : pick(r, SCENARIOS);
  const named = r() < 0.75;
  const first = pick(r, FIRST);
  const contactName = named ? `${first} ${pick(r, LAST)}` : null;
  const contactNumber = `+1512555${String(1000 + ((id * 37) % 9000)).padStart(4, "0")}`;
  const businessNumber = id % 7 === 0 ? SECOND_NUMBER : MAIN_NUMBER;
  const problem = pick(r, PROBLEMS);

  // Timeline is laid forward from `start`; the last item lands exactly on `endMs`.
  const steps: ((at: string, n: number) => TimelineItem)[] = [];
  let leadState: LeadState | null = "texted";
  let optedOut = false;
  let jobValueCents: number | null = null;
  let missedCall = true;
  let done = false;

  const missed = (outcome = "no_answer", reason = "Rang 25 s on 2 phones; nobody picked up", decision: string | null = "send",
    decisionReason: string | null = "Missed call during business hours: business-hours template") =>
    (at: string, n: number): TimelineItem => ({ kind: "call", id: n, at, outcome, outcomeReason: reason, decision, decisionReason });
  const textBack = (status = "delivered", error: string | null = null) =>
    (at: string, n: number): TimelineItem => ({ kind: "message", id: n, at, direction: "outbound", body: TEXT_BACK, status, error, mediaUrls: [], attachments: [], automatic: true });
  const inbound = (body: string, mediaUrls: string[] = []) =>
    (at: string, n: number): TimelineItem => ({ kind: "message", id: n, at, direction: "inbound", body, status: "received", error: null, mediaUrls, attachments: [], automatic: false });
  const outbound = (body: string) =>
    (at: string, n: number): TimelineItem => ({ kind: "message", id: n, at, direction: "outbound", body, status: "delivered", error: null, mediaUrls: [], attachments: [], automatic: false });
  const note = (author: string, body: string) => (at: string, n: number): TimelineItem => ({ kind: "note", id: n, at, author, body });

  switch (scenario) {
    case "texted":
      steps.push(missed(), textBack());
      break;
    case "replied":
      steps.push(missed(), textBack(), inbound(problem));
      leadState = "replied";
      break;
    case "booked":
      steps.push(missed(), textBack(), inbound(problem), outbound(pick(r, STAFF_REPLIES)), inbound(pick(r, CUSTOMER_FOLLOWUPS)),
        note(pick(r, STAFF), "Booked — bring the 50 gal tank quote"));
      leadState = "booked";
      jobValueCents = (120 + Math.floor(r() * 900)) * 100;
      done = !fresh && r() < 0.7;
      break;
    case "lost":
      steps.push(missed(), textBack(), inbound(problem), outbound(pick(r, STAFF_REPLIES)), inbound(pick(r, LOST_REPLIES)));
      leadState = "lost";
      done = !fresh;
      break;
    case "opted_out":
      steps.push(missed(), textBack(), inbound("STOP"),
        (at, n) => ({ kind: "message", id: n, at, direction: "outbound", body: "You're unsubscribed from Rivera Plumbing & Heating texts. Reply START to resubscribe.", status: "delivered", error: null, mediaUrls: [], attachments: [], automatic: true }));
      leadState = "opted_out";
      optedOut = true;
      done = !fresh;
      break;
    case "already_texted":
      steps.push(missed(), textBack(), missed("busy", "Line busy: all 2 phones were on other calls", "already_texted",
        "Already texted this caller 3 h ago (dedupe window 24 h)"));
      break;
    case "landline":
      steps.push(missed("no_answer", "Rang 30 s; nobody picked up", "landline", "The caller's number is a landline and can't receive texts"));
      leadState = "new";
      break;
    case "answered":
      steps.push(missed("answered", "Answered by the front desk after 2 rings (3 min 12 s)", null, null));
      leadState = null;
      missedCall = false;
      break;
    case "mms":
      steps.push(inbound("Here's the water heater, it's leaking from the bottom. Photo attached", [`/demo-media/leak.svg`]));
      leadState = "new";
      missedCall = false;
      break;
    case "failed":
      steps.push(missed(), textBack("failed", "Carrier rejected the message (Twilio 30006: landline or unreachable carrier)"));
      leadState = "new";
      break;
    case "late":
      steps.push(missed("no_answer", "Rang 25 s; nobody picked up", "late", "Missed while this desk was offline for 3 h: not texted automatically. Text or call back?"));
      leadState = "new";
      break;
    case "voicemail":
      steps.push(missed("voicemail", "Caller left a 42 s voicemail", "send", "Missed call after hours: after-hours template"), textBack("delivered"));
      break;
    case "anonymous":
      steps.push(missed("caller_hung_up", "Caller hung up after 6 s", "anonymous", "Caller ID withheld: there is no number to text"));
      leadState = null;
      break;
  }

  const gapMs = 90_000 + Math.floor(r() * 600_000);
  const start = endMs - gapMs * (steps.length - 1);
  const items = steps.map((step, i) => step(iso(start + gapMs * i), id * 100 + i));

  // Unread: what came in after this desk last acted (inbound messages and missed calls).
  let unread = 0;
  if (fresh) {
    for (let i = items.length - 1; i >= 0; i--) {
      const it = items[i] as TimelineItem;
      if (it.kind === "message" && it.direction === "inbound") unread++;
      else if (it.kind === "call" && it.outcome !== "answered") unread++;
      else if (it.kind === "message" && it.automatic) continue;
      else break;
    }
  }
  const last = items[items.length - 1] as TimelineItem;
  const needsReply = !done && !optedOut && last.kind === "message" && last.direction === "inbound";
  const summary: ConversationSummary = {
    id, contactName, contactNumber, businessNumber,
    lastActivityAt: last.at,
    snippet: snippetOf(items),
    unread, leadState, missedCall, done,
    assignedTo: scenario === "booked" || (scenario === "replied" && r() < 0.3) ? pick(r, STAFF) : null,
    optedOut,
    escalated: false,
  };
  return { summary, items, jobValueCents, needsReply };
}

export function snippetOf(items: TimelineItem[]): string {
  for (let i = items.length - 1; i >= 0; i--) {
    const it = items[i] as TimelineItem;
    if (it.kind === "message") return it.body || (it.mediaUrls.length ? "Photo" : "");
    if (it.kind === "call") {
      if (it.outcome === "answered") return "Answered call";
      if (it.outcome === "voicemail") return "Voicemail";
      return "Missed call";
    }
  }
  return "";
}
