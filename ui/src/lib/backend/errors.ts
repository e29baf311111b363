import type { IpcError } from "./bindings/IpcError";

/** Codes the UI branches on (see the IPC contract). Others are shown as-is. */
export type IpcErrorCode = "opted_out" | "offline" | "invalid_input" | "not_found" | "auth" | "storage" | "internal";

export function ipcError(code: IpcErrorCode, message: string): IpcError {
  return { code, message };
}

export function isIpcError(value: unknown): value is IpcError {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Record<string, unknown>).code === "string" &&
    typeof (value as Record<string, unknown>).message === "string"
  );
}

/** Whatever a command rejected with, as the one IPC error shape. */
export function toIpcError(value: unknown): IpcError {
  if (isIpcError(value)) return value;
  if (value instanceof Error) return { code: "internal", message: value.message };
  if (typeof value === "string") return { code: "internal", message: value };
  return { code: "internal", message: "Something went wrong." };
}
