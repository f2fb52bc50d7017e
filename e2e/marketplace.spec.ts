import AxeBuilder from "@axe-core/playwright";
import type { Page } from "@playwright/test";

import { testDb } from "./support/db.ts";
import { APP_URL, DEMO_TENANT_ID, MOCK_URL, PIPEDRIVE, USERS } from "./support/env.ts";
import { expect, snapshot, test } from "./support/fixtures.ts";
import { IntegrationsPage } from "./support/integrations-page.ts";
import { mock } from "./support/mock.ts";

// Installs started on Pipedrive's Marketplace reach our callback with a code and no state. The
// admin signs in if need be, sees whose Pipedrive account it is, and only Connect links it.

const CALLBACK = `${APP_URL}/api/integrations/pipedrive/callback`;
const CONFIRM = /\/settings\/integrations\/install$/;

/** Pipedrive's listing → Install → consent as `as` → Allow: the browser lands on our callback. */
async function installFromMarketplace(page: Page, as = "Pat Pipedrive in Acme Mock Company") {
  await page.goto(`${MOCK_URL}/marketplace?${new URLSearchParams({ redirect_uri: CALLBACK })}`);
  await page.getByRole("link", { name: "Install from Marketplace" }).click();
  await page.getByRole("radio", { name: as }).check();
  await page.getByRole("button", { name: "Allow" }).click();
}

async function signIn(page: Page, user: { email: string; password: string }) {
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** A code for the mock's callback, as Pipedrive would put it in its redirect: here, an attacker's. */
async function codeFromConsent(page: Page, who: string) {
  const answer = await page.request.post(`${MOCK_URL}/oauth/authorize/decision`, {
    form: { decision: "allow", redirect_uri: CALLBACK, who },
    maxRedirects: 0,
  });
  return new URL(answer.headers().location!).searchParams.get("code")!;
}

test("not signed in: install → sign in → confirm → connected, in one pass", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await installFromMarketplace(page);
  await expect(page).toHaveURL(/\/sign-in\?callbackUrl=/);
  // The sign-in page says why the visitor is there, and where someone without an account goes.
  await expect(page.getByRole("heading", { name: "Sign in to finish installing Pipedrive" })).toBeVisible();
  await expect(page).toHaveTitle(/^Sign in to finish installing Pipedrive/);
  await expect(page.getByRole("main")).toContainText("No CRM account yet? Ask your workspace admin for an invite.");
  expect((await new AxeBuilder({ page }).analyze()).violations).toEqual([]);
  await signIn(page, USERS.admin);
  await expect(page).toHaveURL(CONFIRM);
  await expect(page.getByRole("heading", { name: "Connect Pipedrive?" })).toBeVisible();
  await expect(page.getByRole("main")).toContainText("Acme Mock Company");
  await expect(page.getByRole("main")).toContainText("Pat Pipedrive, pat@acme-mock.example");
  await expect(page.getByRole("main")).toContainText("Demo Workspace");
  expect(await testDb.contractRows(DEMO_TENANT_ID)).toHaveLength(0);
  await page.getByRole("button", { name: "Connect" }).click();
  await expect(page).toHaveURL(/pipedrive=connected/);
  await new IntegrationsPage(page).expectStatus("Connected");
  expect(await testDb.auditTrail(DEMO_TENANT_ID)).toEqual(["connected"]);
  await context.close();
});

test("already signed in: install → confirm → connected", async ({ signedIn }) => {
  const { page, integrations } = await signedIn("admin");
  await installFromMarketplace(page);
  await expect(page).toHaveURL(CONFIRM);
  await page.getByRole("button", { name: "Connect" }).click();
  await integrations.expectStatus("Connected");
  await expect(integrations.banner()).toContainText("Pipedrive connected");
});

test("Deny on Pipedrive's Marketplace consent says nothing was connected, and writes nothing: no flow of ours holds it", async ({
  signedIn,
}) => {
  const { page, integrations } = await signedIn("admin");
  const before = await testDb.auditTrail(DEMO_TENANT_ID);
  await page.goto(`${MOCK_URL}/marketplace?${new URLSearchParams({ redirect_uri: CALLBACK })}`);
  await page.getByRole("link", { name: "Install from Marketplace" }).click();
  await page.getByRole("button", { name: "Deny" }).click();
  // Pipedrive's deny carries no state: it reads as what it is, and a link to it proves nothing.
  await expect(page).toHaveURL(/pipedrive=install_cancelled/);
  await expect(integrations.banner()).toContainText("Install cancelled");
  await expect(integrations.banner()).not.toContainText("security check");
  await integrations.expectStatus("Not connected");
  expect(await mock.tokenRequests()).toHaveLength(0);
  expect(await testDb.auditTrail(DEMO_TENANT_ID)).toEqual(before);
});

test("a cross-site page sending a signed-in admin's browser to the Deny link 40 times writes no activity", async ({
  signedIn,
}) => {
  const { page } = await signedIn("admin");
  const before = await testDb.auditTrail(DEMO_TENANT_ID);
  // A page on another site, as the attacker's, sends the browser to the link, again and again.
  for (let i = 0; i < 40; i++) {
    await page.goto(`${MOCK_URL}/marketplace`);
    await page.evaluate((url) => window.location.assign(url), `${CALLBACK}?error=user_denied`);
    await page.waitForURL(/pipedrive=install_cancelled/);
  }
  expect(await testDb.auditTrail(DEMO_TENANT_ID)).toEqual(before);
});

test("Deny for the install this browser holds is logged once, as the admin's cancel", async ({ signedIn }) => {
  const { page, integrations } = await signedIn("admin");
  await installFromMarketplace(page);
  await expect(page).toHaveURL(CONFIRM);
  const before = await testDb.auditTrail(DEMO_TENANT_ID);
  await page.goto(`${CALLBACK}?error=user_denied`);
  await expect(page).toHaveURL(/pipedrive=denied/);
  // One wording for one Deny: the banner, the tab and the activity log say the same.
  const words = "Connect cancelled on Pipedrive's consent page";
  await expect(integrations.banner()).toContainText(words);
  await expect(page).toHaveTitle(`${words} · Integrations · CRM`);
  await expect(page.locator(".activity li").first()).toContainText(words);
  expect(await testDb.auditTrail(DEMO_TENANT_ID)).toEqual([...before, "connect_cancelled"]);
  // The held install is gone: a second Deny writes nothing.
  await page.goto(`${CALLBACK}?error=user_denied`);
  await expect(page).toHaveURL(/pipedrive=install_cancelled/);
  expect(await testDb.auditTrail(DEMO_TENANT_ID)).toEqual([...before, "connect_cancelled"]);
});

test("a member is told an admin must install it, and the code is not exchanged", async ({ signedIn }) => {
  const { page, integrations } = await signedIn("member");
  await installFromMarketplace(page);
  await expect(integrations.banner()).toContainText("A workspace admin must install Pipedrive");
  expect(await mock.tokenRequests()).toHaveLength(0);
  expect(await testDb.contractRows(DEMO_TENANT_ID)).toHaveLength(0);
});

test("Cancel links nothing and gives the grant back", async ({ signedIn }) => {
  const { page, integrations } = await signedIn("admin");
  await installFromMarketplace(page);
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(integrations.banner()).toContainText("Install cancelled");
  await integrations.expectStatus("Not connected");
  expect(await testDb.contractRows(DEMO_TENANT_ID)).toHaveLength(0);
  expect((await mock.requests()).filter((r) => r.path === "/oauth/revoke")).toHaveLength(1);
});

test("an expired code gives a clear message, not an error page", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await installFromMarketplace(page);
  await expect(page).toHaveURL(/\/sign-in/);
  await testDb.agePendingInstalls(); // the admin took longer than Pipedrive's 5 minutes to sign in
  await signIn(page, USERS.admin);
  const integrations = new IntegrationsPage(page);
  await expect(integrations.banner()).toContainText("That install link has expired");
  expect(await mock.tokenRequests()).toHaveLength(0);
  await context.close();
});

test("a replayed code gives a clear message and changes nothing", async ({ signedIn }) => {
  const { page, integrations } = await signedIn("admin");
  const code = await codeFromConsent(page, `${PIPEDRIVE.pat}@${PIPEDRIVE.acme}`);
  await page.goto(`${CALLBACK}?code=${code}`);
  await page.getByRole("button", { name: "Connect" }).click();
  await integrations.expectStatus("Connected");
  const [row] = await testDb.contractRows(DEMO_TENANT_ID);
  await page.goto(`${CALLBACK}?code=${code}`);
  await expect(integrations.banner()).toContainText("That install link has expired");
  await expect(integrations.banner()).toContainText("Your existing connection is unchanged.");
  expect((await testDb.contractRows(DEMO_TENANT_ID))[0]!.accessToken).toBe(row!.accessToken);
});

test("an attacker's code in a link links nothing before the click, and shows whose account it is", async ({
  signedIn,
}) => {
  const attacker = await signedIn("otherAdmin");
  const code = await codeFromConsent(attacker.page, `${PIPEDRIVE.sam}@${PIPEDRIVE.acme}`);
  const victim = await signedIn("admin");
  await victim.page.goto(`${CALLBACK}?code=${code}`);
  await expect(victim.page).toHaveURL(CONFIRM);
  await expect(victim.page.getByRole("main")).toContainText("Sam Second");
  expect(await testDb.contractRows(DEMO_TENANT_ID)).toHaveLength(0);
  expect(await testDb.auditTrail(DEMO_TENANT_ID)).toEqual([]);
  await victim.page.getByRole("button", { name: "Cancel" }).click();
  expect(await testDb.contractRows(DEMO_TENANT_ID)).toHaveLength(0);
});

test("the confirmation fits a 320 px screen and has no axe violations", async ({ signedIn }) => {
  const { page } = await signedIn("admin", { viewport: { width: 320, height: 640 } });
  await installFromMarketplace(page);
  await expect(page).toHaveURL(CONFIRM);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  expect((await new AxeBuilder({ page }).analyze()).violations).toEqual([]);
  await snapshot(page, "marketplace-confirm-320");
});
