import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Builds (or finds) the Pulumi engine, and the tools the tests judge files with, once before any test file runs.
    globalSetup: ["test/setup/engine.ts", "test/setup/tools.ts"],
    // Pulumi's runtime state is global: each file gets its own module graph (vitest's default isolation).
    isolate: true,
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
