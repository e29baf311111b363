import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig } from "vitest/config";

// Tauri serves `dist/` and, in development, loads http://127.0.0.1:1420 (strictPort: the
// shell's devUrl must not silently move).
export default defineConfig(({ mode }) => ({
  plugins: [svelte()],
  clearScreen: false,
  server: { host: "127.0.0.1", port: 1420, strictPort: true },
  preview: { host: "127.0.0.1", port: 1421, strictPort: true },
  build: {
    outDir: "dist",
    target: "es2022",
    // No inlined assets: the CSP is `default-src 'self'`, and data: URLs are not 'self'.
    assetsInlineLimit: 0,
  },
  // Unit tests mount components, so resolve Svelte's browser build.
  resolve: mode === "test" ? { conditions: ["browser"] } : undefined,
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts"],
    setupFiles: ["src/test-setup.ts"],
  },
}));
