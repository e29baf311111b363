export type { Backend, ProviderCredentials, Unsubscribe } from "./backend";
export { isIpcError, toIpcError } from "./errors";

import type { Backend } from "./backend";

/** The real shell inside Tauri; otherwise (plain browser, `vite dev`) the in-memory demo. */
export async function pickBackend(): Promise<Backend> {
  if (typeof window !== "undefined" && "__TAURI_INTERNALS__" in window) {
    const { createTauriBackend } = await import("./tauri");
    return createTauriBackend();
  }
  const { createFakeBackend } = await import("./fake");
  const params = new URLSearchParams(window.location.search);
  const size = Number(params.get("conversations") ?? "");
  const open = Number(params.get("open") ?? "");
  return createFakeBackend({
    conversations: Number.isFinite(size) && size > 0 ? size : undefined,
    scenario: params.get("scenario") ?? undefined,
    simulate: params.get("simulate") !== "0",
    openConversation: Number.isInteger(open) && open > 0 ? open : undefined,
  });
}
