import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    // Generous: a few training tests take tens of seconds on a small, busy machine.
    testTimeout: 240_000,
    hookTimeout: 240_000,
  },
});
