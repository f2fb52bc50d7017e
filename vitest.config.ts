import { fileURLToPath } from "node:url";

import { defineConfig } from "vitest/config";

// The suites that talk to the mock Pipedrive run twice: against its friendly profile (what the
// demo uses) and its strict one (Pipedrive as strictly as its docs allow). Both must pass.
const PIPEDRIVE_FACING = ["lib/pipedrive/**/*.int.test.ts", "scripts/enrich.int.test.ts"];

export default defineConfig({
  // The same "@/" root as tsconfig.json, for tests of app/ modules.
  // "server-only" is what Next.js resolves it to on the server: an empty module.
  resolve: {
    alias: {
      "@": fileURLToPath(new URL(".", import.meta.url)),
      "server-only": fileURLToPath(new URL("node_modules/server-only/empty.js", import.meta.url)),
    },
  },
  test: {
    globalSetup: ["testing/support/test-database.ts"],
    setupFiles: ["testing/support/test-env.ts"],
    pool: "forks",
    // The suites mostly wait: on the mock's latencies, on row locks, on child processes. Four forks
    // on this 2-core machine finish in about half the time of two (221 s against 416 s, measured).
    maxWorkers: 4,
    // A safety net, not a measure: on a busy machine a test takes about twice its idle time.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    server: { deps: { inline: ["next-auth"] } },
    projects: [
      {
        extends: true,
        test: {
          name: "friendly",
          include: [
            "app/**/*.test.ts",
            "bench/**/*.test.ts",
            "lib/**/*.test.ts",
            "scripts/**/*.test.ts",
            "testing/**/*.test.ts",
          ],
          env: { MOCK_PIPEDRIVE_PROFILE: "friendly" },
        },
      },
      { extends: true, test: { name: "strict", include: PIPEDRIVE_FACING, env: { MOCK_PIPEDRIVE_PROFILE: "strict" } } },
    ],
  },
});
