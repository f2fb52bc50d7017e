import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";

import { test as base, type Page } from "@playwright/test";

import { testDb } from "./db.ts";
import { SCREENSHOT_DIR, signedOutState, STATE_DIR, storageState, type UserKey } from "./env.ts";
import { IntegrationsPage } from "./integrations-page.ts";
import { mock } from "./mock.ts";

type Fixtures = {
  /** A signed-in page for a seeded user; each call is its own browser context. */
  signedIn: (
    user: UserKey,
    options?: { viewport?: { width: number; height: number }; javaScriptEnabled?: boolean; timezoneId?: string },
  ) => Promise<{ page: Page; integrations: IntegrationsPage }>;
  resetState: void;
};

export const test = base.extend<Fixtures>({
  // Every browser context, signed in or not, knows this worker's world in the mock.
  storageState: async ({}, use) => use(signedOutState()),
  // Every test starts from: no connection for either of this worker's workspaces, its world of
  // the mock with no faults.
  resetState: [
    async ({}, use, testInfo) => {
      await mock.reset();
      await testDb.resetTenants();
      // Lookup limits are per user and per workspace, and this worker's are every spec's it runs.
      await testDb.resetLookupLimits();
      await use();
      if (testInfo.status !== testInfo.expectedStatus) {
        const log = path.join(STATE_DIR, "server.log");
        if (existsSync(log))
          await testInfo.attach("server.log", { body: readFileSync(log), contentType: "text/plain" });
      }
    },
    { auto: true },
  ],
  // Each project's zone (playwright.config.ts), unless a test names its own.
  signedIn: async ({ browser, timezoneId }, use) => {
    const contexts: Awaited<ReturnType<typeof browser.newContext>>[] = [];
    await use(async (user, options = {}) => {
      const context = await browser.newContext({ storageState: storageState(user), timezoneId, ...options });
      contexts.push(context);
      const page = await context.newPage();
      return { page, integrations: new IntegrationsPage(page) };
    });
    await Promise.all(contexts.map((c) => c.close()));
  },
});

export { expect } from "@playwright/test";

/** Keeps a picture of each page state under e2e/screenshots/ for people to look at. */
export async function snapshot(page: Page, name: string) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/**
 * The two screens every item of the settings page is checked at, each in a zone that is not
 * UTC, so that a time written in UTC, or in one zone where another was meant, shows.
 */
export const SCREENS = [
  { width: 1280, height: 900, timezoneId: "America/Sao_Paulo" },
  { width: 390, height: 844, timezoneId: "Asia/Tokyo" },
] as const;
