/** How a call and the text-back decision read to a receptionist. */

const OUTCOME: Record<string, string> = {
  answered: "Answered",
  no_answer: "Missed: no answer",
  busy: "Missed: line busy",
  caller_hung_up: "Missed: caller hung up",
  voicemail: "Missed: voicemail",
  failed: "Call failed",
};

export function outcomeLabel(outcome: string | null): string {
  if (outcome === null) return "Ringing…";
  return OUTCOME[outcome] ?? `Call: ${outcome.replace(/_/g, " ")}`;
}

export function isMissed(outcome: string | null): boolean {
  return outcome !== null && outcome !== "answered";
}

const SKIP: Record<string, string> = {
  already_texted: "already texted recently",
  landline: "landline number",
  anonymous: "no caller ID",
  opted_out: "caller opted out",
  short_code: "short code",
  not_business_number: "not one of your numbers",
  called_back: "you called back",
  no_responder: "no desk is sending automatic texts",
  stale: "missed too long ago",
  outbound_exists: "someone already texted them",
};

export type Decision = { tone: "ok" | "warn" | "neutral"; headline: string; reason: string | null };

export function decisionText(outcome: string | null, decision: string | null, reason: string | null): Decision {
  if (decision === "send") return { tone: "ok", headline: "Texted back automatically", reason };
  if (decision === "late") return { tone: "warn", headline: "Not texted: missed while offline. Text or call back?", reason };
  if (decision === null) {
    if (outcome === "answered") return { tone: "neutral", headline: "No text-back needed: the call was answered", reason };
    if (outcome === null) return { tone: "neutral", headline: "Waiting for the call to end", reason };
    return { tone: "neutral", headline: "No text-back decision yet", reason };
  }
  return { tone: "warn", headline: `Not texted back: ${SKIP[decision] ?? decision.replace(/_/g, " ")}`, reason };
}
