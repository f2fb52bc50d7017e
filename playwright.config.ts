import { defineConfig } from "@playwright/test";

import { chromiumPath } from "./testing/support/chromium";

const appPort = process.env.E2E_APP_PORT ?? "3100";
const mockPort = process.env.E2E_MOCK_PORT ?? "4110";

// Each worker has workspaces, users and a mock world of its own (testing/support/e2e-slots.ts),
// so spec files run side by side. The specs a worker's slot cannot hold run alone, afterwards:
const SHARED_STATE = [
  // an operator alert, the keeper's heartbeat or a paused API host is every workspace's;
  "operations.spec.ts",
  "truthful-status.spec.ts",
  // the token endpoint's pause is the mock's one API host's;
  "service-token.spec.ts",
  "keeper.spec.ts",
  // a 429 pauses the mock's one API host, and what was learnt about its company is per host;
  "refusals-in-plain-words.spec.ts",
  "lookup-waits-and-words.spec.ts",
  // what the mock's one API host has in custom phone fields is remembered per host;
  "custom-phone-fields.spec.ts",
  // it locks tables every workspace reads, for a few seconds;
  "overload.spec.ts",
  // the metrics count every workspace;
  "signals.spec.ts",
  // Marketplace installs that no workspace holds yet, and counts per client address;
  "marketplace.spec.ts",
  "hostile-requests.spec.ts",
  "client-address.spec.ts",
  "sign-in-lockout.spec.ts",
  // what one request wrote to the server's log, read back.
  "sign-in-sessions-csp.spec.ts",
  "anonymous-noise.spec.ts",
];
const workers = Number(process.env.E2E_WORKERS ?? 2);

export default defineConfig({
  testDir: "e2e",
  testMatch: "*.spec.ts",
  workers,
  // A file's tests stay together, in order, in one worker.
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  // Safety nets, not measures: two workers on two cores make each test about 1.5 times slower.
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  globalSetup: "./e2e/global-setup.ts",
  use: {
    baseURL: `http://localhost:${appPort}`,
    // A trace records every action of every test to keep the failing ones; CI prints only the
    // log, so there it was 10% of the stage's time spent on files nobody reads (275 s against 249 s).
    trace: process.env.CI ? "off" : "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: chromiumPath(process.env.CHROMIUM_PATH),
      args: [
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--no-first-run",
        "--disable-gpu",
      ],
    },
  },
  projects: [
    // Every browser reads the page in a zone that is not UTC, one per project, so a time written
    // in UTC where the reader's zone was meant fails somewhere (SCREENS pairs each width with one).
    { name: "workspaces", testIgnore: SHARED_STATE, use: { timezoneId: "America/Sao_Paulo" } },
    {
      name: "shared",
      testMatch: SHARED_STATE,
      dependencies: ["workspaces"],
      workers: 1,
      use: { timezoneId: "Asia/Tokyo" },
    },
  ],
  webServer: [
    {
      command: "tsx --conditions=react-server testing/mock-pipedrive/main.ts",
      url: `http://localhost:${mockPort}/__mock/requests`,
      env: { MOCK_PIPEDRIVE_PORT: mockPort, APP_URL: `http://localhost:${appPort}` },
      reuseExistingServer: false,
      stdout: "ignore",
    },
    {
      command: "tsx --conditions=react-server scripts/e2e-server.ts",
      url: `http://localhost:${appPort}/sign-in`,
      env: { E2E_APP_PORT: appPort, E2E_MOCK_PORT: mockPort, E2E_SLOTS: String(workers) },
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: "ignore",
      gracefulShutdown: { signal: "SIGTERM", timeout: 10_000 },
    },
  ],
});
