import AxeBuilder from "@axe-core/playwright";
import type { Page } from "@playwright/test";

import { expect, snapshot, test } from "./support/fixtures.ts";

// Lookup results a lead-enrichment user can act on, and a miss that cannot be silent: at 1280
// and 390 px, with axe.

async function expectNoViolations(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
}

for (const [width, height] of [
  [1280, 900],
  [390, 844],
] as const) {
  test(`results at ${width} px: a count, a link to the person, the matched phone marked, phones and emails apart`, async ({
    signedIn,
  }) => {
    const { page, integrations } = await signedIn("admin", { viewport: { width, height } });
    await integrations.connect();
    await integrations.goto();
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
