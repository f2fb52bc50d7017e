import type { Page } from "@playwright/test";

import { zoneName } from "../lib/time-zone.ts";
import { expectNoViolations } from "./support/a11y.ts";
import { testDb } from "./support/db.ts";
import { DEMO_TENANT_ID, MOCK_URL } from "./support/env.ts";
import { expect, SCREENS, snapshot, test } from "./support/fixtures.ts";

// One status that tells the truth: the badge and the Access row show the worst condition in
// force, the button that fixes a banner sits in it, and a button that cannot help is not shown.
// At 1280 and 390 px, with axe.

const MOCK_HOST = new URL(MOCK_URL).host;
const APP_REJECTED = "pipedrive_app_credentials_rejected";

const access = (page: Page) => page.locator(".facts dt:has-text('Access') + dd");

for (const { width, height, timezoneId: screenZone } of SCREENS) {
  const viewport = { width, height };

  test(`at ${width} px, while a refused renewal is checked, every surface says so in the reader's zone, and no mail goes`, async ({
    signedIn,
  }) => {
    for (const [timezoneId, zone] of [
      ["America/Sao_Paulo", "GMT-3"],
      ["Asia/Tokyo", "GMT+9"],
    ] as const) {
      const { page, integrations } = await signedIn("admin", { viewport, timezoneId });
      await integrations.connect();
      const mailsBefore = (
        await testDb.query("SELECT 1 FROM pipedrive_notifications WHERE tenant_id = $1", [DEMO_TENANT_ID])
      ).length;
      // As the refresh leaves it when Pipedrive refuses the row's refresh token: suspected, verdict due in a minute.
      const dueAt = new Date(Date.now() + 60_000);
      await testDb.query(
        `UPDATE pipedrive_connections SET suspected_at = now(), next_refresh_at = $2 WHERE tenant_id = $1`,
        [DEMO_TENANT_ID, dueAt],
      );
      await integrations.goto();
      await expect(integrations.card().locator(".badge")).toHaveText("Checking access");
      await expect(access(page)).toContainText("Checking access: Pipedrive refused a renewal at");
      await expect(access(page)).toContainText(zone);
      await expect(access(page)).toContainText("lookups wait until then");
      await expect(integrations.reconnectButton()).toHaveCount(0);
      await expectNoViolations(page);
      await snapshot(page, `status-checking-${width}-${timezoneId.replace("/", "-")}`);
      // A member reads the same, and the status view agrees.
      const member = await signedIn("member", { viewport, timezoneId });
      await member.integrations.goto();
      await expect(member.integrations.card().locator(".badge")).toHaveText("Checking access");
      const view = await testDb.query<{ status: string }>(
        "SELECT status FROM lead_pipedrive_integration_status WHERE tenant_id = $1",
        [DEMO_TENANT_ID],
      );
      expect(view).toEqual([{ status: "checking_access" }]);
      expect(
        (await testDb.query("SELECT 1 FROM pipedrive_notifications WHERE tenant_id = $1", [DEMO_TENANT_ID])).length,
      ).toBe(mailsBefore);
      await testDb.query("UPDATE pipedrive_connections SET suspected_at = NULL WHERE tenant_id = $1", [DEMO_TENANT_ID]);
      await integrations.disconnect();
    }
  });

  test(`at ${width} px, a rate-limit pause and a stopped keeper show in the badge and the Access row`, async ({
    signedIn,
  }) => {
    const { page, integrations } = await signedIn("admin", { viewport, timezoneId: screenZone });
    await integrations.connect();
    await expect(access(page)).toContainText("Renewed automatically");

    const until = new Date(Date.now() + 42 * 60_000);
    await testDb.blockCompany(MOCK_HOST, until);
    try {
      await integrations.goto();
      // In the reader's zone, as every time on the page is.
      const hhmm = new Intl.DateTimeFormat("en-GB", {
        timeZone: screenZone,
        hour: "2-digit",
        minute: "2-digit",
        hourCycle: "h23",
      }).format(until);
      const zone = zoneName(screenZone, until).replace("+", "\\+");
      await expect(integrations.card().locator(".badge")).toHaveText(new RegExp(`^Paused until .*${hhmm} ${zone}$`));
      await expect(access(page)).toContainText(`Paused until`);
      await expect(access(page)).toContainText(hhmm);
      // Reconnecting cannot lift Pipedrive's limit, so it is not offered; Disconnect still is.
      await expect(integrations.reconnectButton()).toHaveCount(0);
      await expect(integrations.disconnectLink()).toBeVisible();
      await expectNoViolations(page);
      await snapshot(page, `status-paused-${width}`);
    } finally {
      await testDb.blockCompany(MOCK_HOST, null);
    }

    await testDb.keeperLastSeen(new Date(Date.now() - 20 * 60_000));
    try {
      await integrations.goto();
      await expect(integrations.card().locator(".badge")).toHaveText("Renewal delayed");
      await expect(access(page)).toContainText("Renewal delayed: automatic renewal last ran");
      await expect(integrations.reconnectButton()).toHaveCount(1);
      await expectNoViolations(page);
      // Members cannot restart the keeper, and their lookups still work: nothing to tell them.
      const member = await signedIn("member", { viewport });
      await member.integrations.goto();
      await expect(member.integrations.card().locator(".badge")).toHaveText("Connected");
      await expect(member.page.getByText("Automatic renewal is not running")).toHaveCount(0);
    } finally {
      await testDb.keeperLastSeen(new Date());
    }
  });

  test(`at ${width} px, rejected app credentials read as unavailable, and Reconnect is not offered`, async ({
    signedIn,
  }) => {
    const { page, integrations } = await signedIn("admin", { viewport });
    await integrations.connect();
    await testDb.operatorAlert(APP_REJECTED, true);
    try {
      await integrations.goto();
      await expect(integrations.card().locator(".badge")).toHaveText("Unavailable: app credentials rejected");
      await expect(access(page)).toContainText("Unavailable since");
      await expect(integrations.reconnectButton()).toHaveCount(0);
      await expectNoViolations(page);
      await snapshot(page, `status-unavailable-${width}`);
      const member = await signedIn("member", { viewport });
      await member.integrations.goto();
      await expect(member.integrations.card().locator(".badge")).toHaveText("Unavailable");
      await expect(access(member.page)).toHaveText("Lookups are unavailable; the CRM's operators have been told");
    } finally {
      await testDb.operatorAlert(APP_REJECTED, false);
    }
  });

  test(`at ${width} px, the Reconnect that fixes a broken connection sits in its banner, once`, async ({
    signedIn,
  }) => {
    const { page, integrations } = await signedIn("admin", { viewport });
    await integrations.connect();
    await testDb.query(
      `UPDATE pipedrive_connections SET status = 'needs_reconnect', last_error = 'Pipedrive refused our access.', last_error_at = now() WHERE tenant_id = $1`,
      [DEMO_TENANT_ID],
    );
    await integrations.goto();
    await integrations.expectStatus("Needs reconnect");
    const banner = integrations.card().getByRole("status").filter({ hasText: "Pipedrive needs to be reconnected" });
    await expect(banner.getByRole("button", { name: "Reconnect" })).toBeVisible();
    await expect(integrations.reconnectButton()).toHaveCount(1);
    await expectNoViolations(page);
    await snapshot(page, `status-needs-reconnect-${width}`);
    await banner.getByRole("button", { name: "Reconnect" }).click();
    await integrations.approve();
    await integrations.expectStatus("Connected");
  });
}
