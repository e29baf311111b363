import { describe, expect, it } from "vitest";
import { keyToAction, nextIndex } from "./listNav";

describe("inbox keyboard shortcuts", () => {
  it("moves with j/k anywhere outside a text field", () => {
    expect(keyToAction({ key: "j" }, "list")).toEqual({ type: "move", delta: 1 });
    expect(keyToAction({ key: "k" }, "other")).toEqual({ type: "move", delta: -1 });
  });

  it("never fires single-letter shortcuts while the user is typing", () => {
    for (const key of ["j", "k", "r", "/", "Enter", "ArrowDown"]) {
      expect(keyToAction({ key }, "editable"), key).toBeNull();
    }
  });

  it("lets Escape leave a text field (back to the list)", () => {
    expect(keyToAction({ key: "Escape" }, "editable")).toEqual({ type: "back" });
  });

  it("moves with arrows and opens with Enter only from the list, so buttons keep their Enter", () => {
    expect(keyToAction({ key: "ArrowDown" }, "list")).toEqual({ type: "move", delta: 1 });
    expect(keyToAction({ key: "ArrowUp" }, "body")).toEqual({ type: "move", delta: -1 });
    expect(keyToAction({ key: "Enter" }, "list")).toEqual({ type: "open" });
    expect(keyToAction({ key: "Enter" }, "other")).toBeNull();
    expect(keyToAction({ key: "ArrowDown" }, "other")).toBeNull();
  });

  it("maps r to the reply box and / to search", () => {
    expect(keyToAction({ key: "r" }, "list")).toEqual({ type: "focusReply" });
    expect(keyToAction({ key: "/" }, "body")).toEqual({ type: "focusSearch" });
  });

  it("ignores shortcuts with modifiers (Ctrl+R reloads, Cmd+K is the OS's)", () => {
    expect(keyToAction({ key: "r", ctrlKey: true }, "list")).toBeNull();
    expect(keyToAction({ key: "k", metaKey: true }, "list")).toBeNull();
  });

  it("clamps the cursor to the list and starts at the first row", () => {
    expect(nextIndex(-1, 1, 5)).toBe(0);
    expect(nextIndex(-1, -1, 5)).toBe(4);
    expect(nextIndex(4, 1, 5)).toBe(4);
    expect(nextIndex(0, -1, 5)).toBe(0);
    expect(nextIndex(2, 10, 5)).toBe(4);
    expect(nextIndex(0, 1, 0)).toBe(-1);
  });
});
