/**
 * Inbox keyboard shortcuts as pure logic: which action a key press means, given where the
 * focus is. Single-letter shortcuts never fire while typing; Enter and arrows only act on
 * the list (Enter on a button must still press the button).
 */
export type FocusZone = "list" | "body" | "editable" | "other";

export type ListAction =
  | { type: "move"; delta: number }
  | { type: "first" }
  | { type: "last" }
  | { type: "open" }
  | { type: "focusReply" }
  | { type: "focusSearch" }
  | { type: "back" };

export type KeyLike = { key: string; ctrlKey?: boolean; metaKey?: boolean; altKey?: boolean };

export function keyToAction(e: KeyLike, zone: FocusZone): ListAction | null {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  if (e.key === "Escape") return { type: "back" };
  if (zone === "editable") return null;
  const onList = zone === "list" || zone === "body";
  switch (e.key) {
    case "j":
      return { type: "move", delta: 1 };
    case "k":
      return { type: "move", delta: -1 };
    case "ArrowDown":
      return onList ? { type: "move", delta: 1 } : null;
    case "ArrowUp":
      return onList ? { type: "move", delta: -1 } : null;
    case "PageDown":
      return zone === "list" ? { type: "move", delta: 10 } : null;
    case "PageUp":
      return zone === "list" ? { type: "move", delta: -10 } : null;
    case "Home":
      return zone === "list" ? { type: "first" } : null;
    case "End":
      return zone === "list" ? { type: "last" } : null;
    case "Enter":
      return onList ? { type: "open" } : null;
    case "r":
      return { type: "focusReply" };
    case "/":
      return { type: "focusSearch" };
    default:
      return null;
  }
}

/** Clamped cursor movement; from "nothing active" the first press lands on the first row. */
export function nextIndex(current: number, delta: number, count: number): number {
  if (count <= 0) return -1;
  if (current < 0) return delta >= 0 ? 0 : count - 1;
  return Math.min(count - 1, Math.max(0, current + delta));
}
