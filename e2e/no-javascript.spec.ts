import { testDb } from "./support/db.ts";
import { DEMO_TENANT_ID } from "./support/env.ts";
import { expect, test } from "./support/fixtures.ts";

// Every flow of the page works with JavaScript off: the busy states are an enhancement, never a
// requirement. Connect, search, see the activity, and disconnect through its confirmation.

test("with JavaScript off, an admin connects, searches, reads the activity and disconnects", async ({ signedIn }) => {
  const { page, integrations } = await signedIn("admin", { javaScriptEnabled: false });
  await integrations.connect();
  // Without the enhancement the button stays a plain submit button.
  await expect(page.getByRole("button", { name: "Search" })).not.toHaveAttribute("data-ready");
  await integrations.lookup("+55 11 99999-0001");
  await expect(page.getByRole("list", { name: "Matches" })).toContainText("Ana Souza");
  await page.getByRole("link", { name: "Show all activity" }).click();
  await expect(page.getByRole("heading", { name: "Pipedrive activity" })).toBeVisible();
  await page.getByRole("link", { name: "← Integrations" }).click();
  await integrations.disconnect();
  await integrations.expectStatus("Not connected");
  expect(await testDb.contractRows(DEMO_TENANT_ID)).toHaveLength(0);
});
