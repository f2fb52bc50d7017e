import type { Page } from "@playwright/test";

import { zoneName } from "../lib/time-zone.ts";
import { expectNoViolations } from "./support/a11y.ts";
import { testDb } from "./support/db.ts";
import { DEMO_TENANT_ID } from "./support/env.ts";
import { expect, SCREENS, snapshot, test } from "./support/fixtures.ts";
import { mock } from "./support/mock.ts";

// The settings page's items that other specs check at one width, at 1280 and 390 px with axe:
// input that cannot silently miss, bounded waits with their own words, sign-in that keeps what
// was typed and warns before it pauses, and outcomes that take focus and the tab title.

/** Protocol words stay in the audit detail; a tenant reads plain ones. */
async function expectPlainWords(page: Page) {
  expect(await page.locator("main").innerText()).not.toMatch(
    /access grant|client id|client secret|refresh token|access token|oauth|invalid_grant|429/i,
  );
}

const storedLookups = async () =>
  (
    await testDb.query<{ n: number }>("SELECT count(*)::int AS n FROM pipedrive_lookups WHERE tenant_id = $1", [
      DEMO_TENANT_ID,
    ])
  )[0]!.n;

for (const { width, height, timezoneId: screenZone } of SCREENS) {
  const viewport = { width, height };

  test(`at ${width} px, a number too short is told why, marked invalid, and neither stored nor counted`, async ({
    signedIn,
  }) => {
    const { page, integrations } = await signedIn("admin", { viewport, timezoneId: screenZone });
    await integrations.connect();
    const before = await storedLookups();
    await integrations.lookup("12");
    await expect(page.locator(".lookup-problem")).toHaveText("Enter at least 4 digits.");
    await expect(page.getByLabel("Phone number")).toHaveAttribute("aria-invalid", "true");
    await expect(page.getByLabel("Phone number")).toHaveAccessibleDescription(/Enter at least 4 digits\./);
    expect(await storedLookups()).toBe(before);
    const counters = () => testDb.query("SELECT 1 FROM rate_limits WHERE key LIKE 'lookup%'");
    expect(await counters()).toHaveLength(0);
    await expectNoViolations(page);
    // A real search is counted, so the check above could have seen one.
    await integrations.lookup("+55 11 99999-0001");
    expect((await counters()).length).toBeGreaterThan(0);
  });

  test(`at ${width} px, a short Pipedrive limit and a slow token call end quickly, in their own words`, async ({
    signedIn,
  }) => {
    const { page, integrations } = await signedIn("admin", { viewport, timezoneId: screenZone });
    await integrations.connect();
    // Pipedrive answers every search with 429 and Retry-After: 8 s, a burst limit.
    await mock.faults({ searchRateLimit: { limit: 0, windowMs: 60_000, retryAfterSeconds: 8 } });
    await integrations.lookup("+55 11 99999-0001");
    await expect(page.locator(".lookup-problem")).toHaveText(
      "Pipedrive is busy and asked us to wait 8\u00a0seconds. Try again then.",
    );
    await expect(integrations.card()).not.toContainText("used up");
    await expectPlainWords(page);
    await expectNoViolations(page);

    // A reconnect whose token call never answers.
    await mock.faults({ token: { mode: "timeout" } });
    await integrations.goto();
    await integrations.reconnectButton().click();
    await page.getByRole("button", { name: "Allow" }).click();
    await page.waitForURL(/reason=exchange_timeout/, { timeout: 15_000 });
    await expect(integrations.banner()).toContainText("Pipedrive took too long to answer");
    await expect(integrations.banner()).toContainText("Your existing connection is unchanged.");
    await expect(integrations.banner()).toBeFocused();
    await expect(page).toHaveTitle("Pipedrive took too long to answer · Integrations · CRM");
    await integrations.expectStatus("Connected");
    await expectPlainWords(page);
    await expectNoViolations(page);
    await snapshot(page, `connect-timeout-${width}`);
  });

  test(`at ${width} px, sign-in keeps the email, focuses the password, warns before it pauses, and keeps the way back`, async ({
    browser,
  }) => {
    const context = await browser.newContext({ viewport, timezoneId: screenZone });
    const page = await context.newPage();
    // An account nobody uses, so the throttle touches no other spec; three tries stay below the pause.
    const email = `sign-in-${width}-${Date.now()}@demo.test`;
    await page.goto("/sign-in?callbackUrl=%2Fsettings%2Fintegrations%2Factivity");
    await page.getByLabel("Email").fill(email);
    for (let i = 0; i < 3; i++) {
      await page.getByLabel("Password").fill(`guess ${i}`);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(/error=/);
      await expect(page.getByLabel("Email")).toHaveValue(email);
      await expect(page.getByLabel("Password")).toBeFocused();
    }
    await expect(page.locator(".banner")).toContainText("2 tries left before sign-in pauses");
    await expectNoViolations(page);

    // The pause, as the sign-in route sends a browser to it: its end time, and the way back kept.
    const until = Math.floor(Date.now() / 1000) + 600;
    await page.goto(`/sign-in?error=paused&until=${until}&callbackUrl=%2Fsettings%2Fintegrations%2Factivity`);
    await expect(page.locator(".banner")).toContainText("Sign-in is paused");
    // In the reader's zone (the first page told the server), never UTC for a reader elsewhere.
    await expect(page.locator(".banner")).toContainText(
      new RegExp(`until \\d{1,2} \\w{3} \\d{4}, \\d{2}:\\d{2}:\\d{2} ${zoneName(screenZone).replace("+", "\\+")}`),
    );
    await expect(page).toHaveTitle(/Sign-in paused/);
    await expect(page.locator('input[name="callbackUrl"]')).toHaveValue("/settings/integrations/activity");
    await expectNoViolations(page);
    await snapshot(page, `sign-in-paused-${width}`);
    await context.close();
    // Three wrong passwords from this address count against it; later specs sign in from it too.
    await testDb.query("DELETE FROM rate_limits WHERE key LIKE 'signin%'");
  });
}
