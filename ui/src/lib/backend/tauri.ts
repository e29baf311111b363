import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type { Backend, ProviderCredentials } from "./backend";
import type { DomainEvent } from "./bindings/DomainEvent";
import { toIpcError } from "./errors";

/** NOTE: argument keys are the Rust parameter names in camelCase (Tauri's default mapping). */
async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    throw toIpcError(e);
  }
}

export function createTauriBackend(): Backend {
  return {
    appStatus: () => call("app_status"),
    appShown: () => call("app_shown"),
    inboxList: (query) => call("inbox_list", { query }),
    conversationOpen: (id) => call("conversation_open", { id }),
    conversationReply: (id, body) => call("conversation_reply", { id, body }),
    conversationStart: (number, body) => call("conversation_start", { number, body }),
    conversationMarkRead: (id, read) => call("conversation_mark_read", { id, read }),
    conversationMarkDone: (id, done) => call("conversation_mark_done", { id, done }),
    conversationAssign: (id, staff) => call("conversation_assign", { id, staff }),
    conversationAddNote: (id, body) => call("conversation_add_note", { id, body }),
    leadMarkBooked: (id, jobValueCents) => call("lead_mark_booked", { id, jobValueCents }),
    leadMarkLost: (id) => call("lead_mark_lost", { id }),
    escalationAcknowledge: (id) => call("escalation_acknowledge", { id }),
    resultsFunnel: (query) => call("results_funnel", { query }),
    contactRename: (conversationId, name) => call("contact_rename", { conversationId, name }),
    settingsGet: () => call("settings_get"),
    settingsSave: (settings) => call("settings_save", { settings }),
    templatePreview: (template) => call("template_preview", { template }),
    rosterWeek: (weekStart) => call("roster_week", { weekStart }),
    rosterNow: () => call("roster_now"),
    dntList: () => call("dnt_list"),
    dntAdd: (phone) => call("dnt_add", { phone }),
    dntRemove: (phone, reason) => call("dnt_remove", { phone, reason }),
    dntImport: (csv) => call("dnt_import", { csv }),
    dntExport: () => call("dnt_export"),
    providerConnect: (c: ProviderCredentials) =>
      call("provider_connect", {
        accountSid: c.accountSid,
        authToken: "authToken" in c ? c.authToken : null,
        apiKeySid: "apiKeySid" in c ? c.apiKeySid : null,
        apiKeySecret: "apiKeySecret" in c ? c.apiKeySecret : null,
      }),
    providerFinishConnect: (numbers, responder) => call("provider_finish_connect", { numbers, responder }),
    onEvents: (cb) => listen<DomainEvent[]>("textback://events", (e) => cb(e.payload)),
    onOpenConversation: (cb) => listen<number>("textback://open-conversation", (e) => cb(e.payload)),
  };
}
