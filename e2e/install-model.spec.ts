import AxeBuilder from "@axe-core/playwright";

import { testDb } from "./support/db.ts";
import { APP_URL, DEMO_TENANT_ID, OTHER_TENANT_ID, PIPEDRIVE } from "./support/env.ts";
import { expect, snapshot, test } from "./support/fixtures.ts";
import { mock } from "./support/mock.ts";

// Pipedrive's install model, through the production build and the mock's consent page: an
// install is one Pipedrive user's in one company, and revoking its refresh token uninstalls it.

const CALLBACK = `${APP_URL}/api/integrations/pipedrive/callback`;
const revokes = async () => (await mock.requests()).filter((r) => r.path === "/oauth/revoke");

test("cancelling on Pipedrive's consent page reads as a cancel; while connected, the connection is unchanged", async ({
  signedIn,
}) => {
  const { integrations } = await signedIn("admin");
  await integrations.goto();
  await integrations.startConnect();
  await integrations.deny();
  await expect(integrations.banner()).toContainText("Connect cancelled on Pipedrive's consent page");
  await integrations.connect();
  await integrations.reconnectButton().click();
  await integrations.deny();
  await expect(integrations.banner()).toContainText("Connect cancelled on Pipedrive's consent page");
  await expect(integrations.banner()).toContainText("Your existing connection is unchanged.");
  await integrations.expectStatus("Connected");
});

test("another Pipedrive user of the same company uninstalling their copy leaves this workspace connected", async ({
  signedIn,
}) => {
  const { integrations } = await signedIn("admin");
  await integrations.connect();
  expect((await mock.uninstall(CALLBACK, "valid", { userId: PIPEDRIVE.sam, companyId: PIPEDRIVE.acme })).status).toBe(
    200,
  );
  await integrations.goto();
  await integrations.expectStatus("Connected");
  const [row] = await testDb.contractRows(DEMO_TENANT_ID);
  expect(await mock.accepts(row!.accessToken)).toBe(true);
  // The connected user's own uninstall does remove it.
  expect((await mock.uninstall(CALLBACK, "valid", { userId: PIPEDRIVE.pat, companyId: PIPEDRIVE.acme })).status).toBe(
    200,
  );
  await integrations.goto();
  await integrations.expectStatus("Uninstalled in Pipedrive");
});

test("one Pipedrive login cannot serve two workspaces: the second is told plainly, the first keeps working", async ({
  signedIn,
}) => {
  const first = await signedIn("admin");
  await first.integrations.connect();
  const second = await signedIn("otherAdmin");
  await second.integrations.goto();
  await second.integrations.startConnect();
  await second.integrations.approve("Pat Pipedrive in Acme Mock Company");
  await expect(second.integrations.banner()).toContainText("That Pipedrive login is already connected");
  await expect(second.integrations.banner()).not.toContainText("Demo Workspace");
  await second.integrations.expectStatus("Not connected");
  expect(await testDb.contractRows(OTHER_TENANT_ID)).toHaveLength(0);
  expect(await revokes()).toHaveLength(0);
  const [row] = await testDb.contractRows(DEMO_TENANT_ID);
  expect(await mock.accepts(row!.accessToken)).toBe(true);
  await first.integrations.goto();
  await first.integrations.lookup("+55 11 99999-0001");
  await expect(first.page.getByRole("list", { name: "Matches" })).toContainText("Ana Souza");

  // The same person in another company is another install: that connects.
  await second.integrations.goto();
  await second.integrations.startConnect();
  await second.integrations.approve("Pat Pipedrive in Beta Mock Company");
  await second.integrations.expectStatus("Connected");
  await expect(second.integrations.card()).toContainText("Beta Mock Company");
});

test("a Reconnect as a login another workspace holds is one refusal, with the way to another Pipedrive user", async ({
  signedIn,
}) => {
  const first = await signedIn("admin");
  await first.integrations.connect();
  const second = await signedIn("otherAdmin");
  await second.integrations.goto();
  await second.integrations.startConnect();
  await second.integrations.approve("Pat Pipedrive in Beta Mock Company");
  await second.integrations.expectStatus("Connected");

  // Reconnecting as the login the first workspace holds.
  const { page } = second;
  await second.integrations.reconnectButton().click();
  await page.getByRole("radio", { name: "Pat Pipedrive in Acme Mock Company" }).check();
  await page.getByRole("button", { name: "Allow" }).click();
  await expect(page).toHaveURL(/\/settings\/integrations\/install$/);
  const heading = "Can't connect Pat Pipedrive (Acme Mock Company)";
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(heading);
  await expect(page).toHaveTitle(`${heading} · Integrations · CRM`);
  const alerts = page.getByRole("main").getByRole("alert");
  await expect(alerts).toHaveCount(1);
  await expect(alerts).toContainText("Another workspace uses this Pipedrive login. Nothing changed.");
  await expect(page.getByRole("main")).not.toContainText("replaces");
  await expect(page.getByRole("main")).not.toContainText("uninstalled");
  expect((await new AxeBuilder({ page }).analyze()).violations).toEqual([]);
  await snapshot(page, "held-elsewhere-1280");

  // Its primary action goes back to Pipedrive's consent, to choose another user; nothing changed meanwhile.
  await page.getByRole("button", { name: "Connect as another Pipedrive user" }).click();
  await expect(page.getByRole("button", { name: "Allow" })).toBeVisible();
  const [row] = await testDb.contractRows(OTHER_TENANT_ID);
  expect(await mock.accepts(row!.accessToken)).toBe(true);
  await second.integrations.goto();
  await expect(second.integrations.card()).toContainText("Beta Mock Company");
});

test("a grant without the contacts permission waits for new permissions, and says which", async ({ signedIn }) => {
  await mock.config({ consentScopes: ["base"] });
  const { page, integrations } = await signedIn("admin");
  await integrations.goto();
  await integrations.startConnect();
  await integrations.approve();
  await integrations.expectStatus("Needs new permissions");
  await expect(integrations.card()).toContainText("read contacts (people and organisations)");
  await expect(page.getByLabel("Phone number")).toHaveCount(0);
  await snapshot(page, "needs-permissions");
  expect((await new AxeBuilder({ page }).analyze()).violations).toEqual([]);
  // A member has no Reconnect button, so is not told to press one.
  const member = await signedIn("member");
  await member.integrations.goto();
  await member.integrations.expectStatus("Needs new permissions");
  await expect(member.integrations.card()).not.toContainText("Press Reconnect");
  await expect(member.integrations.card()).toContainText("An admin of this workspace needs to reconnect Pipedrive");

  await mock.config({ consentScopes: ["base", "contacts:read"] });
  await integrations.reconnectButton().click();
  await integrations.approve();
  await integrations.expectStatus("Connected");
});

test("a lapsed subscription (402) pauses lookups in a state of its own, with what to do", async ({ signedIn }) => {
  const { page, integrations } = await signedIn("admin");
  await integrations.connect();
  await mock.faults({ api402: { times: 1 } });
  await integrations.lookup("+55 11 99999-0001");
  await expect(page.locator(".lookup-problem")).toContainText("subscription is not active");
  await integrations.goto();
  await integrations.expectStatus("Paused: subscription");
  await expect(integrations.card()).toContainText("lookups resume on their own");
  // The page and the mail say the same thing to do: renew in Pipedrive.
  await expect(integrations.card()).toContainText("renew the subscription in Pipedrive");
  await expect(integrations.card()).not.toContainText("Nothing to do here");
  await snapshot(page, "subscription-lapsed");
  expect(await testDb.auditTrail(DEMO_TENANT_ID)).toEqual(["connected", "subscription_lapsed"]);
});

test("a Reconnect as another Pipedrive user asks first, names whose app is uninstalled, and the log says from whom to whom", async ({
  signedIn,
}) => {
  const { page, integrations } = await signedIn("admin");
  await integrations.connect();
  const [before] = await testDb.contractRows(DEMO_TENANT_ID);

  // The same Pipedrive user again: no question asked, and the page says nothing else changed.
  await integrations.reconnectButton().click();
  await integrations.approve("Pat Pipedrive in Acme Mock Company");
  await expect(integrations.banner()).toContainText("Pipedrive reconnected");
  await expect(integrations.banner()).toContainText("Reconnected as Pat Pipedrive; nothing else changed.");
  await expect(page).toHaveTitle(/^Pipedrive reconnected · Integrations/);

  // Another one: the confirmation says what the switch does before anything changes.
  await integrations.reconnectButton().click();
  await page.getByRole("radio", { name: "Sam Second in Acme Mock Company" }).check();
  await page.getByRole("button", { name: "Allow" }).click();
  await expect(page).toHaveURL(/\/settings\/integrations\/install$/);
  await expect(page.getByRole("heading", { name: "Switch Pipedrive user?" })).toBeVisible();
  await expect(page.locator(".banner[role=alert]")).toContainText(
    "This replaces the current connection, as Pat Pipedrive",
  );
  await expect(page.locator(".banner[role=alert]")).toContainText("uninstalled from Pat Pipedrive's Pipedrive account");
  expect((await new AxeBuilder({ page }).analyze()).violations).toEqual([]);
  await snapshot(page, "switch-confirm-1280");
  expect(await revokes()).toHaveLength(0);
  expect((await testDb.contractRows(DEMO_TENANT_ID))[0]!.refreshToken).not.toBe("");

  // Cancel: still Pat's connection, and Sam's new grant is given back.
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(integrations.banner()).toContainText("Your existing connection is unchanged.");
  await integrations.expectStatus("Connected");
  await expect(integrations.card()).toContainText("Pat Pipedrive");
  const [afterCancel] = await testDb.contractRows(DEMO_TENANT_ID);
  expect(await mock.accepts(afterCancel!.accessToken)).toBe(true);
  // The activity log keeps the cancelled switch, naming whom it would have connected.
  expect((await testDb.auditTrail(DEMO_TENANT_ID)).at(-1)).toBe("switch_cancelled");
  await expect(page.getByText("Switch to Sam Second cancelled; still connected as Pat Pipedrive")).toBeVisible();

  // Again, and Connect: Sam's now, Pat's app uninstalled, and the log says so.
  await integrations.reconnectButton().click();
  await page.getByRole("radio", { name: "Sam Second in Acme Mock Company" }).check();
  await page.getByRole("button", { name: "Allow" }).click();
  await page.getByRole("button", { name: "Connect" }).click();
  await integrations.expectStatus("Connected");
  await expect(integrations.card()).toContainText("Sam Second");
  await expect(page.getByText("Switched Pipedrive user from Pat Pipedrive to Sam Second")).toBeVisible();
  expect(await mock.accepts(before!.accessToken)).toBe(false);
  // The page says what happened: from whom to whom, and that Pat's app went.
  await expect(integrations.banner()).toContainText("Switched Pipedrive user");
  await expect(integrations.banner()).toContainText(
    "Switched from Pat Pipedrive to Sam Second; the app was removed from Pat Pipedrive's Pipedrive account.",
  );
  await expect(page).toHaveTitle(/^Switched Pipedrive user · Integrations/);
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    expect((await new AxeBuilder({ page }).analyze()).violations).toEqual([]);
    await snapshot(page, `switched-${width}`);
  }
});
