import { defineConfig } from "@playwright/test";

const appPort = process.env.E2E_APP_PORT ?? "3100";
const mockPort = process.env.E2E_MOCK_PORT ?? "4110";

export default defineConfig({
  testDir: "e2e",
  testMatch: "*.spec.ts",
  // The specs share one mock Pipedrive and one seeded database; run them one at a time.
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 7_000 },
  reporter: [["list"]],
  globalSetup: "./e2e/global-setup.ts",
  use: {
    baseURL: `http://localhost:${appPort}`,
    // A trace records every action of every test to keep the failing ones; CI prints only the
    // log, so there it was 10% of the stage's time spent on files nobody reads (275 s against 249 s).
    trace: process.env.CI ? "off" : "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
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
      env: { E2E_APP_PORT: appPort, E2E_MOCK_PORT: mockPort },
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: "ignore",
      gracefulShutdown: { signal: "SIGTERM", timeout: 10_000 },
    },
  ],
});
