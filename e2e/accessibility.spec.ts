import AxeBuilder from "@axe-core/playwright";
import type { Page } from "@playwright/test";

import { expectNoViolations } from "./support/a11y.ts";
import { testDb } from "./support/db.ts";
import { DEMO_TENANT_ID, USERS } from "./support/env.ts";
import { expect, test } from "./support/fixtures.ts";
import { mock } from "./support/mock.ts";

/** Tabs until the focused element matches, as a keyboard user would; fails after `limit` presses. */
async function tabTo(page: Page, name: RegExp, limit = 25) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    const label = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      return el ? (el.getAttribute("aria-label") ?? el.innerText ?? el.getAttribute("value") ?? "").trim() : "";
    });
    if (name.test(label)) return;
  }
  throw new Error(`could not reach ${name} with Tab`);
}

test("the whole connect flow works with the keyboard alone", async ({ page }) => {
  await page.goto("/settings/integrations");
  await page.keyboard.type(USERS.admin.email); // the email field has focus on arrival
  await page.keyboard.press("Tab");
  await page.keyboard.type(USERS.admin.password);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/settings\/integrations$/);
  await tabTo(page, /^Connect Pipedrive$/);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("button", { name: "Allow" })).toBeVisible();
  await tabTo(page, /^Allow$/);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/pipedrive=connected/);
  await expect(page.getByRole("region", { name: "Pipedrive" }).locator(".badge")).toHaveText("Connected");
  await tabTo(page, /^Disconnect…$/);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: "Disconnect Pipedrive?" })).toBeVisible();
  await expectNoViolations(page); // the confirmation says what disconnecting does
  await tabTo(page, /^Disconnect Pipedrive$/);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/pipedrive=disconnected/);
});

test("sign-in page has no axe violations, before and after a failed attempt", async ({ page }) => {
  await page.goto("/sign-in");
  await expectNoViolations(page);
  await page.getByLabel("Email").fill(USERS.admin.email);
  await page.getByLabel("Password").fill("wrong");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("Sign-in failed")).toBeVisible();
  await expectNoViolations(page);
});

test("integrations page has no axe violations in any state", async ({ signedIn }) => {
  // Seven states, each a page load and a full axe run: time in proportion, as the mobile walk has.
  test.setTimeout(90_000);
  const { page, integrations } = await signedIn("admin");
  await integrations.goto();
  await expectNoViolations(page); // not connected

  await integrations.startConnect();
  await expectNoViolations(page); // the mock's consent page
  await integrations.approve();
  await expectNoViolations(page); // connected, with banner

  await integrations.lookup("+55 11 99999-0001");
  await expectNoViolations(page); // with results

  await testDb.expireAccessToken(DEMO_TENANT_ID);
  await mock.faults({ token: { mode: "invalid_grant" } });
  await integrations.lookup("+55 11 99999-0001");
  await integrations.expectStatus("Needs reconnect");
  await expectNoViolations(page); // needs reconnect

  await integrations.goto("?pipedrive=error&reason=state_invalid");
  await expectNoViolations(page); // error banner

  const member = await signedIn("member");
  await member.integrations.goto();
  await expectNoViolations(member.page); // member view
});

test("saving the mail preference confirms beside the checkbox, where focus goes, at 390 px", async ({ signedIn }) => {
  const { page, integrations } = await signedIn("admin", { viewport: { width: 390, height: 844 } });
  await integrations.connect();
  const section = page.getByRole("region", { name: "Mail about this connection" });
  await section.getByRole("checkbox").uncheck();
  await section.getByRole("button", { name: "Save" }).click();
  await page.waitForURL(/pipedrive=mail_off/);
  const saved = section.getByRole("status");
  await expect(saved).toHaveText(/^Saved: you will not get mail about this connection\./);
  await expect(saved).toBeFocused();
  await expect(saved).toBeInViewport();
  // Said once, where it was asked, not also in a banner at the top of the page.
  await expect(page.locator("main > .banner")).toHaveCount(0);
  await section.getByRole("checkbox").check();
  await section.getByRole("button", { name: "Save" }).click();
  await page.waitForURL(/pipedrive=mail_on/);
  await expect(section.getByRole("status")).toHaveText(/^Saved: you will get mail about this connection when it stops/);
  expect((await new AxeBuilder({ page }).analyze()).violations).toEqual([]);
});
