import { USAGE_HINT } from "../lib/errors.ts";
import { testDb } from "./support/db.ts";
import { MOCK_URL } from "./support/env.ts";
import { expect, snapshot, test } from "./support/fixtures.ts";
import { mock } from "./support/mock.ts";

// What the settings page tells an admin about automatic renewal and Pipedrive's limits.

const MOCK_HOST = new URL(MOCK_URL).host;

test("the page shows that access renews automatically, and warns when the keeper has stopped", async ({ signedIn }) => {
  const { page, integrations } = await signedIn("admin");
  await integrations.connect();
  await expect(integrations.card()).toContainText(/Renewed automatically · next \d/);
  await expect(integrations.card()).not.toContainText("Automatic renewal is not running");
  // The suite's keeper scanned when it started.
  expect(await testDb.keeperHeartbeat()).not.toBeNull();

  await testDb.keeperLastSeen(new Date(Date.now() - 20 * 60_000));
  await integrations.goto();
  const warning = integrations.card().getByRole("status").filter({ hasText: "Automatic renewal is not running" });
  await expect(warning).toContainText("It last ran");
  await expect(warning).toContainText("a connection left unused for 60 days stops working");
  await snapshot(page, "keeper-not-running");
  await testDb.keeperLastSeen(new Date());
});

test("when Pipedrive's daily limit is spent, the page says when lookups resume and no call is made", async ({
  signedIn,
}) => {
  // One clock: the card and the lookup say the same moment, in the reader's zone.
  const { integrations } = await signedIn("admin", { timezoneId: "Asia/Tokyo" });
  await integrations.connect();
  const until = new Date(Date.now() + 42 * 60_000);
  await testDb.blockCompany(MOCK_HOST, until);
  try {
    await mock.reset();
    await integrations.goto();
    const inTokyo = new Intl.DateTimeFormat("en-GB", {
      day: "numeric",
      month: "short",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      timeZone: "Asia/Tokyo",
      timeZoneName: "short",
    }).format(until);
    await expect(
      integrations.card().getByRole("status").filter({ hasText: "Lookups paused by Pipedrive" }),
    ).toContainText(`resume at`);
    await expect(integrations.card()).toContainText(inTokyo);
    await integrations.lookup("+55 11 99999-0001");
    await expect(integrations.page.locator(".lookup-problem")).toHaveText(
      `Pipedrive's request limit for this company is used up. Lookups resume at ${inTokyo}. ${USAGE_HINT}`,
    );
    expect((await mock.requests()).filter((r) => r.path.includes("/persons/search"))).toHaveLength(0);
  } finally {
    await testDb.blockCompany(MOCK_HOST, null);
  }
});
