import js from "@eslint/js";
import svelte from "eslint-plugin-svelte";
import globals from "globals";
import ts from "typescript-eslint";
import svelteConfig from "./svelte.config.js";

// Text from outside (SMS bodies, names, numbers) is only ever rendered as text. These are
// the ways to turn a string into markup; each is an error everywhere, tests included.
const HTML_SINK = "Renders a string as HTML. Text from outside must be rendered with {text} interpolation.";
const htmlSinkProperties = ["innerHTML", "outerHTML", "insertAdjacentHTML", "srcdoc", "setHTMLUnsafe", "createContextualFragment"];

export default ts.config(
  { ignores: ["dist/", "node_modules/", "src/lib/lint-fixtures/"] },
  js.configs.recommended,
  ...ts.configs.strict,
  ...svelte.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ["**/*.svelte", "**/*.svelte.ts"],
    languageOptions: {
      parserOptions: { parser: ts.parser, extraFileExtensions: [".svelte"], svelteConfig },
    },
  },
  {
    files: ["*.config.js", "*.config.ts"],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    rules: {
      "svelte/no-at-html-tags": "error",
      "no-restricted-properties": [
        "error",
        ...htmlSinkProperties.map((property) => ({ property, message: HTML_SINK })),
        { object: "document", property: "write", message: HTML_SINK },
        { object: "document", property: "writeln", message: HTML_SINK },
      ],
      "no-restricted-syntax": [
        "error",
        // el["innerHTML"] and friends, which no-restricted-properties does not see.
        { selector: `MemberExpression[computed=true][property.value=/^(${htmlSinkProperties.join("|")})$/]`, message: HTML_SINK },
        { selector: `CallExpression[callee.property.name=/^write(ln)?$/][callee.object.name='document']`, message: HTML_SINK },
        // <div bind:innerHTML={…}> / bind:outerHTML in Svelte markup.
        { selector: "SvelteDirective[kind='Binding'][key.name.name=/^(innerHTML|outerHTML)$/]", message: HTML_SINK },
        // <iframe srcdoc={…}>
        { selector: "SvelteAttribute[key.name='srcdoc']", message: HTML_SINK },
      ],
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: ["@tauri-apps/*"], message: "Only src/lib/backend/ may import @tauri-apps: use the Backend interface." }] },
      ],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["src/lib/backend/**"],
    rules: { "no-restricted-imports": "off" },
  },
);
