import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["lib/**/*.test.ts", "scripts/**/*.test.ts", "e2e/mock-pipedrive/**/*.test.ts"],
    globalSetup: ["scripts/support/test-database.ts"],
    setupFiles: ["scripts/support/test-env.ts"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    server: { deps: { inline: ["next-auth"] } },
  },
});
