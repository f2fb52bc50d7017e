import { testDb } from "./support/db.ts";
import { APP_URL, DEMO_TENANT_ID, OTHER_TENANT_ID, USERS } from "./support/env.ts";
import { expect, snapshot, test } from "./support/fixtures.ts";
import { mock } from "./support/mock.ts";

test("a signed-out visitor is sent to sign-in and comes back to the integrations page", async ({ page }) => {
  await page.goto("/settings/integrations");
  await expect(page).toHaveURL(/\/sign-in\?callbackUrl=%2Fsettings%2Fintegrations/);
  await page.getByLabel("Email").fill(USERS.admin.email);
  await page.getByLabel("Password").fill(USERS.admin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/settings\/integrations$/);
  await expect(page.getByRole("heading", { name: "Integrations", level: 1 })).toBeVisible();
});

test("a wrong password shows a clear message and no session", async ({ page }) => {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(USERS.admin.email);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("That email and password do not match an account")).toBeVisible();
  await page.goto("/settings/integrations");
  await expect(page).toHaveURL(/\/sign-in/);
});

test("an admin connects Pipedrive and sees the mock company", async ({ signedIn }) => {
  const { page, integrations } = await signedIn("admin");
  await integrations.goto();
  await integrations.expectStatus("Not connected");
  // Before Connect: what the connection may do, as whom, and where it will show in Pipedrive.
  await expect(integrations.card()).toContainText(
    "Lead enrichment will look people up by phone in your Pipedrive contacts, acting as the Pipedrive user who approves the connection on Pipedrive's page.",
  );
  await expect(integrations.card()).toContainText(
    "It may see who is connected, in which company; read contacts (people and organisations).",
  );
  await expect(integrations.card()).toContainText(
    "It then shows among that user's installed apps in Pipedrive, where they can remove it.",
  );
  await snapshot(page, "not-connected");
  const before = Date.now();
  await integrations.startConnect();
  await integrations.approve();
  await expect(integrations.banner()).toContainText("Pipedrive connected");
  // The outcome is announced: the banner has focus and the tab title says it.
  await expect(integrations.banner()).toBeFocused();
  await expect(page).toHaveTitle("Pipedrive connected · Integrations · CRM");
  await integrations.expectStatus("Connected");
  await expect(integrations.card()).toContainText("Acme Mock Company");
  await expect(integrations.card()).toContainText("acme-mock.pipedrive.com");
  await expect(integrations.card()).toContainText("Dana Admin");
  await expect(integrations.card()).toContainText(/Renewed automatically · next \d/);
  await snapshot(page, "connected");

  const rows = await testDb.contractRows(DEMO_TENANT_ID);
  expect(rows).toHaveLength(1);
  expect(rows[0]!.apiDomain).toBe("localhost:4110");
  expect(rows[0]!.apiDomain).not.toMatch(/^[a-z]+:\/\//);
  const lifetime = (rows[0]!.expiresAt.getTime() - before) / 1000;
  expect(lifetime).toBeGreaterThan(3500);
  expect(lifetime).toBeLessThan(3700);
  expect(await testDb.contractRows(OTHER_TENANT_ID)).toHaveLength(0);
});

test("an admin who cancels at Pipedrive sees a neutral banner and nothing is written", async ({ signedIn }) => {
  const { integrations } = await signedIn("admin");
  await integrations.goto();
  await integrations.startConnect();
  await integrations.deny();
  await expect(integrations.banner()).toContainText("Connect cancelled on Pipedrive's consent page");
  await expect(integrations.banner()).toHaveClass(/banner-info/);
  expect(integrations.page.url()).toContain("pipedrive=denied");
  await integrations.expectStatus("Not connected");
  expect(await testDb.contractRows(DEMO_TENANT_ID)).toHaveLength(0);
  expect(await mock.tokenRequests()).toHaveLength(0);
});

test("reconnecting as the same Pipedrive user keeps one row that works at Pipedrive and revokes nothing", async ({
  signedIn,
}) => {
  const { integrations } = await signedIn("admin");
  await integrations.connect();
  const [first] = await testDb.contractRows(DEMO_TENANT_ID);
  await integrations.reconnectButton().click();
  await integrations.approve();
  await integrations.expectStatus("Connected");
  const rows = await testDb.contractRows(DEMO_TENANT_ID);
  expect(rows).toHaveLength(1);
  expect(rows[0]!.accessToken).not.toBe(first!.accessToken);
  // Revoking the replaced refresh token would uninstall the app for this very Pipedrive user.
  expect((await mock.requests()).filter((r) => r.path === "/oauth/revoke")).toHaveLength(0);
  expect(await mock.accepts(rows[0]!.accessToken)).toBe(true);
  expect((await mock.installs()).uninstalls).toEqual([]);
  expect(await testDb.auditTrail(DEMO_TENANT_ID)).toEqual(["connected", "reconnected"]);
  const activity = integrations.page.getByRole("region", { name: "Recent activity" });
  await expect(activity).toContainText("Reconnected");
  await expect(activity).toContainText("Connected");
});

test("disconnect revokes at Pipedrive, removes the row and shows not connected", async ({ signedIn }) => {
  const { integrations } = await signedIn("admin");
  await integrations.connect();
  await integrations.disconnect();
  await expect(integrations.banner()).toContainText("The app was removed from the connected Pipedrive user's account");
  await integrations.expectStatus("Not connected");
  expect((await mock.requests()).filter((r) => r.path === "/oauth/revoke").map((r) => r.status)).toEqual([200]);
  expect(await testDb.contractRows(DEMO_TENANT_ID)).toHaveLength(0);
});

test("disconnecting what another tab already disconnected says nothing was connected", async ({ signedIn }) => {
  const first = await signedIn("admin");
  await first.integrations.connect();
  await first.integrations.goto();
  await first.integrations.openDisconnect();
  const second = await signedIn("admin");
  await second.integrations.goto();
  await second.integrations.disconnect();
  await first.integrations.confirmDisconnect();
  await expect(first.integrations.banner()).toContainText("Nothing to disconnect");
  await expect(first.integrations.banner()).toContainText(
    "Pipedrive was not connected for this workspace, so nothing changed.",
  );
  await expect(first.integrations.banner()).not.toContainText("removed");
  expect((await mock.requests()).filter((r) => r.path === "/oauth/revoke")).toHaveLength(1);
});

test("disconnect still disconnects when the revoke fails, and says so", async ({ signedIn }) => {
  const { integrations } = await signedIn("admin");
  await integrations.connect();
  await mock.faults({ revoke: { mode: "500" } });
  await integrations.disconnect();
  await expect(integrations.banner()).toContainText("Pipedrive did not confirm that it removed the app");
  await integrations.expectStatus("Not connected");
  expect(await testDb.contractRows(DEMO_TENANT_ID)).toHaveLength(0);
  expect(await testDb.auditTrail(DEMO_TENANT_ID)).toContain("revoke_failed");
});

test("a member sees the status but no buttons, and cannot start the flow", async ({ signedIn }) => {
  const admin = await signedIn("admin");
  await admin.integrations.connect();
  const { page, integrations } = await signedIn("member");
  await mock.reset();
  await integrations.goto();
  await integrations.expectStatus("Connected");
  await expect(integrations.card()).toContainText("Acme Mock Company");
  await expect(integrations.card().getByRole("link")).toHaveCount(0);
  await expect(integrations.card().getByRole("button")).toHaveCount(0);
  // Who connected what, and why it failed, is for admins only.
  await expect(page.getByRole("region", { name: "Recent activity" })).toHaveCount(0);
  await snapshot(page, "member-view");

  const response = await page.request.post("/api/integrations/pipedrive/authorize", {
    headers: { "Sec-Fetch-Site": "same-origin" },
    maxRedirects: 0,
  });
  expect(response.status()).toBe(303);
  expect(response.headers().location).toContain("reason=forbidden");
  expect((await mock.requests()).filter((r) => r.path === "/oauth/authorize")).toHaveLength(0);

  const forged = await page.request.post("/api/integrations/pipedrive/disconnect", {
    headers: { "Sec-Fetch-Site": "same-origin" },
    maxRedirects: 0,
  });
  expect(forged.status()).toBe(303);
  expect(forged.headers().location).toContain("reason=forbidden");
  expect(await testDb.contractRows(DEMO_TENANT_ID)).toHaveLength(1);
});

test("an uninstall notice from Pipedrive disconnects the tenant; a forged one is refused", async ({ signedIn }) => {
  const { integrations } = await signedIn("admin");
  await integrations.connect();
  const callback = `${APP_URL}/api/integrations/pipedrive/callback`;
  expect((await mock.uninstall(callback, "wrong")).status).toBe(401);
  expect((await mock.uninstall(callback, "none")).status).toBe(401);
  expect(await testDb.contractRows(DEMO_TENANT_ID)).toHaveLength(1);
  expect((await mock.uninstall(callback)).status).toBe(200);
  await integrations.goto();
  await integrations.expectStatus("Uninstalled in Pipedrive");
  expect(await testDb.contractRows(DEMO_TENANT_ID)).toHaveLength(0);
  expect((await mock.uninstall(callback)).status).toBe(200);
});

test("the phone lookup finds a seeded Pipedrive person", async ({ signedIn }) => {
  const { page, integrations } = await signedIn("admin");
  await integrations.connect();
  const member = await signedIn("member");
  await member.integrations.goto();
  await member.integrations.lookup("(11) 99999-0001");
  await expect(member.page.getByRole("list", { name: "Matches" })).toContainText("Ana Souza");
  await integrations.lookup("+55 21 4000-0000");
  await expect(page.locator(".lookup-miss")).toContainText("No person in Pipedrive has +55 21 4000");
  await integrations.lookup("call me");
  await expect(page.locator(".lookup-problem")).toContainText("A phone number can only have digits");
  await expect(page.locator(".lookup-problem")).toHaveAttribute("role", "alert");
});

test("a needs-reconnect connection shows why and reconnecting clears it", async ({ signedIn }) => {
  const { page, integrations } = await signedIn("admin");
  await integrations.connect();
  await testDb.expireAccessToken(DEMO_TENANT_ID);
  await mock.faults({ token: { mode: "invalid_grant", grant: "refresh_token" } });
  await integrations.lookup("+55 11 99999-0001");
  await integrations.expectStatus("Needs reconnect");
  // Plain words, when it stopped, what to do; no protocol terms and no renewal time in the past.
  // Connected seconds ago: 60 idle days cannot be why, so they are not named.
  await expect(integrations.card()).toContainText(
    "Pipedrive no longer accepts this workspace's access. It was in use until recently, so it was most likely removed in Pipedrive",
  );
  await expect(integrations.card()).not.toContainText("left unused");
  await expect(integrations.card()).toContainText(
    "Lookups are paused until an admin presses Reconnect and allows access again in Pipedrive.",
  );
  await expect(integrations.card()).toContainText("Stopped working");
  await expect(integrations.card()).not.toContainText("invalid_grant");
  await expect(integrations.card()).not.toContainText(/renew/i);
  await expect(integrations.reconnectButton()).toBeVisible();
  await snapshot(page, "needs-reconnect");
  expect((await testDb.connectionRow(DEMO_TENANT_ID))?.status).toBe("needs_reconnect");

  // Pipedrive is not asked again until someone reconnects.
  const before = (await mock.tokenRequests("refresh_token")).length;
  await integrations.lookup("+55 11 99999-0001");
  expect((await mock.tokenRequests("refresh_token")).length).toBe(before);

  await mock.faults({});
  await integrations.reconnectButton().click();
  await integrations.approve();
  await integrations.expectStatus("Connected");
  expect((await testDb.connectionRow(DEMO_TENANT_ID))?.status).toBe("connected");
});

test("the page refuses to be framed by another origin", async ({ signedIn }) => {
  const { page } = await signedIn("admin");
  const response = await page.goto("/settings/integrations");
  expect(response?.headers()["x-frame-options"]).toBe("DENY");
  expect(response?.headers()["content-security-policy"]).toContain("frame-ancestors 'none'");
  await page.setContent(`<iframe src="${APP_URL}/settings/integrations" title="framed"></iframe>`);
  const frame = page.frameLocator("iframe");
  await expect(frame.getByRole("heading", { name: "Integrations" })).toHaveCount(0);
});

test("signing out ends the session", async ({ page }) => {
  const user = await testDb.createUser("disposable-password");
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/settings\/integrations$/);
  await expect(page.getByRole("banner")).toContainText("Sam Disposable");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in/);
  await page.goto("/settings/integrations");
  await expect(page).toHaveURL(/\/sign-in\?callbackUrl=/);
});
