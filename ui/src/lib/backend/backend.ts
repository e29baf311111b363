/**
 * The one doorway from the UI to the desktop shell. Every command of the IPC contract
 * (/work/ipc-contract.md) is a method here; components and stores only ever see this
 * interface, never `@tauri-apps/*`, so the same UI runs on the real shell, on the
 * in-memory fake in a plain browser (`vite dev`), and in unit tests.
 */
import type { AppStatus } from "./bindings/AppStatus";
import type { DntImportResult } from "./bindings/DntImportResult";
import type { DntNumber } from "./bindings/DntNumber";
import type { DomainEvent } from "./bindings/DomainEvent";
import type { EscalationInfo } from "./bindings/EscalationInfo";
import type { Funnel } from "./bindings/Funnel";
import type { FunnelQuery } from "./bindings/FunnelQuery";
import type { InboxPage } from "./bindings/InboxPage";
import type { InboxQuery } from "./bindings/InboxQuery";
import type { ProviderConnectResult } from "./bindings/ProviderConnectResult";
import type { RosterNow } from "./bindings/RosterNow";
import type { RosterWeek } from "./bindings/RosterWeek";
import type { Settings } from "./bindings/Settings";
import type { TemplatePreview } from "./bindings/TemplatePreview";
import type { Thread } from "./bindings/Thread";
import type { TimelineItem } from "./bindings/TimelineItem";

export type Unsubscribe = () => void;

/** Twilio accepts either the account's auth token or an API key pair. */
export type ProviderCredentials =
  | { accountSid: string; authToken: string }
  | { accountSid: string; apiKeySid: string; apiKeySecret: string };

export interface Backend {
  appStatus(): Promise<AppStatus>;
  /** The inbox is on screen for the first time (start-up timing, logged by the app). */
  appShown(): Promise<void>;
  inboxList(query: InboxQuery): Promise<InboxPage>;
  /** Opens a thread; marks it read on this desk. */
  conversationOpen(id: number): Promise<Thread>;
  /** Resolves with the new message (status "pending" until sent); rejects `opted_out`. */
  conversationReply(id: number, body: string): Promise<TimelineItem>;
  /** Resolves with the conversation id. */
  conversationStart(number: string, body: string): Promise<number>;
  conversationMarkRead(id: number, read: boolean): Promise<void>;
  conversationMarkDone(id: number, done: boolean): Promise<void>;
  conversationAssign(id: number, staff: string | null): Promise<void>;
  conversationAddNote(id: number, body: string): Promise<TimelineItem>;
  leadMarkBooked(id: number, jobValueCents: number | null): Promise<void>;
  leadMarkLost(id: number): Promise<void>;
  /** "I've got it": this desk's user takes the escalation; paging stops. Resolves with it as it
   * now stands (taken by whoever was first). */
  escalationAcknowledge(id: number): Promise<EscalationInfo>;
  /** The owner's missed-call funnel; rejects `invalid_input` for a bad or too long period. */
  resultsFunnel(query: FunnelQuery): Promise<Funnel>;
  contactRename(conversationId: number, name: string): Promise<void>;
  settingsGet(): Promise<Settings>;
  /** Rejects `invalid_input` with a message naming the field. */
  settingsSave(settings: Settings): Promise<Settings>;
  templatePreview(template: string): Promise<TemplatePreview>;
  /** Who works, is off and is on call for 7 days from `weekStart` ("2026-03-09"; null: this
   * week's Monday), from the saved rota. Rejects `invalid_input` naming the field. */
  rosterWeek(weekStart: string | null): Promise<RosterWeek>;
  /** Who is on shift now (else on call), from the saved rota. */
  rosterNow(): Promise<RosterNow>;
  /** The do-not-text list, oldest opt-out first. */
  dntList(): Promise<DntNumber[]>;
  /** Puts a number on the list by hand (audited). Rejects `invalid_input` ("phone: …"). */
  dntAdd(phone: string): Promise<DntNumber>;
  /** Takes a number off the list (audited with the reason). Rejects `not_found`. */
  dntRemove(phone: string, reason: string | null): Promise<void>;
  /** Imports CSV text; bad rows come back by line, the rest are imported. */
  dntImport(csv: string): Promise<DntImportResult>;
  /** The list as spreadsheet-safe CSV. */
  dntExport(): Promise<string>;
  /** Checks the credentials live; they are stored (keychain) only on success. Rejects `auth`. */
  providerConnect(credentials: ProviderCredentials): Promise<ProviderConnectResult>;
  providerFinishConnect(numbers: string[], responder: boolean): Promise<void>;
  /** `textback://events`: batches of domain events. */
  onEvents(cb: (events: DomainEvent[]) => void): Promise<Unsubscribe>;
  /** `textback://open-conversation`: a desktop alert was clicked. */
  onOpenConversation(cb: (id: number) => void): Promise<Unsubscribe>;
}
