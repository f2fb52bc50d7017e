import { expectNoViolations } from "./support/a11y.ts";
import { testDb } from "./support/db.ts";
import { DEMO_TENANT_ID } from "./support/env.ts";
import { expect, SCREENS, snapshot, test } from "./support/fixtures.ts";
import { mock } from "./support/mock.ts";

// Lookup results a lead-enrichment user can act on, and a miss that cannot be silent: at 1280
// and 390 px, with axe.

for (const { width, height, timezoneId: screenZone } of SCREENS) {
  test(`results at ${width} px: a count, a link to the person, the matched phone marked, phones and emails apart`, async ({
    signedIn,
  }) => {
    const { page, integrations } = await signedIn("admin", { viewport: { width, height }, timezoneId: screenZone });
    await integrations.connect();
    await integrations.goto();
    // The card says when lookups last worked: not yet, then right after this one.
    const lastUsed = integrations.card().locator("dt:text-is('Last used') + dd");
    await expect(lastUsed).toHaveText("Not yet");
    await expect(page.locator("#phone-hint")).toHaveText(
      "For example +55 11 99999-0001. Numbers without a +country code are read as numbers in Brazil (+55). 00 works as + too.",
    );
    await expect(page.getByLabel("Phone number")).toHaveAccessibleDescription(/read as numbers in Brazil \(\+55\)/);

    await integrations.lookup("0055 11 99999 0001");
    await expect(page.locator(".lookup-count")).toHaveText("1 person found for +55 11 99999 0001");
    const match = page.getByRole("list", { name: "Matches" }).getByRole("listitem");
    await expect(match.getByRole("link", { name: /Ana Souza/ })).toHaveAttribute(
      "href",
      /^https:\/\/acme-mock\.pipedrive\.com\/person\/101$/,
    );
    await expect(match.locator("mark")).toHaveText("+55 11 99999-0001");
    await expect(match).toContainText("Owner:");
    const used = new Date((await lastUsed.locator("time").getAttribute("datetime"))!);
    expect(Math.abs(Date.now() - used.getTime())).toBeLessThan(120_000);
    await expectNoViolations(page);
    await snapshot(page, `lookup-result-${width}`);

    await integrations.lookup("415 555 0103");
    await expect(page.locator(".lookup-miss")).toContainText("No person in Pipedrive has +55 41 5555 0103.");
    await expect(page.locator(".lookup-miss")).toContainText("add its country code, for example +1 415 555 0103");
    await expectNoViolations(page);
    await snapshot(page, `lookup-miss-${width}`);
  });
}

test("a result that has expired, or is someone else's, says so", async ({ signedIn }) => {
  const { page, integrations } = await signedIn("admin");
  await integrations.connect();
  await integrations.goto("?lookup=00000000-0000-4000-8000-000000000000");
  await expect(page.locator(".lookup-problem")).toHaveText(
    "This result has expired, or belongs to someone else. Search again.",
  );
});

test("a workspace's daily lookup budget is counted on the page, and once spent, says until when, calling nobody", async ({
  signedIn,
}) => {
  const { page, integrations } = await signedIn("admin");
  await integrations.connect();
  await integrations.goto();
  await expect(page.locator("#lookups-today")).toHaveText(/^This workspace: \d+ of 200 lookups today \(UTC\)\.$/);
  // The day's budget spent, as 200 lookups would have left it.
  const key = `lookup-day:${DEMO_TENANT_ID}:${new Date().toISOString().slice(0, 10)}`;
  await testDb.query(
    `INSERT INTO rate_limits (key, points, expire) VALUES ($1, 200, $2)
     ON CONFLICT (key) DO UPDATE SET points = 200, expire = EXCLUDED.expire`,
    [key, Date.now() + 2 * 86_400_000],
  );
  const searches = (await mock.requests()).filter((r) => r.path === "/api/v2/persons/search").length;
  await integrations.lookup("+55 11 99999-0001");
  await expect(page.locator(".lookup-problem")).toHaveText(
    /^This workspace has used its 200 lookups for today\. Lookups resume at 00:00 UTC on \d{1,2} [A-Z][a-z]{2} \d{4}\./,
  );
  await expect(page.locator("#lookups-today")).toHaveText("This workspace: 200 of 200 lookups today (UTC).");
  expect((await mock.requests()).filter((r) => r.path === "/api/v2/persons/search").length).toBe(searches);
  await testDb.query("DELETE FROM rate_limits WHERE key = $1", [key]);
});
