import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Each file gets a fresh process: Pulumi's runtime state (setMocks) is per process.
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
