// @vitest-environment node
/**
 * The lint rules that keep outside text out of HTML sinks and Tauri out of components are
 * part of the product's security; this proves each one still fires.
 */
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const eslint = new ESLint({ cwd: new URL("..", import.meta.url).pathname });

async function rules(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => m.ruleId ?? "fatal");
}

describe("lint forbids HTML sinks", () => {
  const ts = "src/lib/inbox/sink.ts";
  it.each([
    ["innerHTML", `export const f = (el: HTMLElement, s: string) => { el.innerHTML = s; };`],
    ["outerHTML", `export const f = (el: HTMLElement, s: string) => { el.outerHTML = s; };`],
    ["computed innerHTML", `export const f = (el: HTMLElement, s: string) => { el["innerHTML"] = s; };`],
    ["insertAdjacentHTML", `export const f = (el: HTMLElement, s: string) => el.insertAdjacentHTML("beforeend", s);`],
    ["document.write", `export const f = (s: string) => document.write(s);`],
  ])("%s", async (_name, code) => {
    const found = await rules(ts, code);
    expect(found.some((r) => r === "no-restricted-properties" || r === "no-restricted-syntax")).toBe(true);
  });

  it("{@html} in a component", async () => {
    expect(await rules("src/lib/inbox/Sink.svelte", `<script lang="ts">let { s }: { s: string } = $props();</script>\n<p>{@html s}</p>`)).toContain("svelte/no-at-html-tags");
  });

  it("bind:innerHTML in a component", async () => {
    expect(await rules("src/lib/inbox/Sink.svelte", `<script lang="ts">let s = $state("");</script>\n<div contenteditable="true" bind:innerHTML={s}></div>`)).toContain("no-restricted-syntax");
  });

  it("but allows textContent", async () => {
    expect(await rules(ts, `export const f = (el: HTMLElement, s: string) => { el.textContent = s; };`)).toEqual([]);
  });
});

describe("lint keeps @tauri-apps inside lib/backend", () => {
  const code = `import { invoke } from "@tauri-apps/api/core";\nexport const f = invoke;`;
  it("rejects it in a component folder", async () => {
    expect(await rules("src/lib/inbox/x.ts", code)).toContain("no-restricted-imports");
  });
  it("allows it in the backend", async () => {
    expect(await rules("src/lib/backend/x.ts", code)).toEqual([]);
  });
});
