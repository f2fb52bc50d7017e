import { expectNoViolations } from "./support/a11y.ts";
import { testDb } from "./support/db.ts";
import { MOCK_URL } from "./support/env.ts";
import { expect, snapshot, test } from "./support/fixtures.ts";
import { mock } from "./support/mock.ts";

// A person Pipedrive finds through a company's custom phone field is shown with the number it
// matched, labelled with that field: at 1280 and 390 px, with axe, in two zones that are not UTC.

const forgetFields = () =>
  testDb.query(`DELETE FROM pipedrive_companies WHERE api_host = $1`, [new URL(MOCK_URL).host]);

test.afterEach(async () => {
  await mock.config({ customPhoneField: false });
  await forgetFields();
});

for (const [width, height, timezoneId] of [
  [1280, 900, "America/Sao_Paulo"],
  [390, 844, "Asia/Tokyo"],
] as const) {
  test(`a match in a custom phone field at ${width} px (${timezoneId}): the number marked, labelled with its field`, async ({
    signedIn,
  }) => {
    const { page, integrations } = await signedIn("admin", { viewport: { width, height }, timezoneId });
    await integrations.connect();
    await mock.config({ customPhoneField: true });
    await forgetFields();
    await integrations.goto();
    await integrations.lookup("+55 11 97777-0004");
    await expect(page.locator(".lookup-count")).toHaveText("1 person found for +55 11 97777 0004");
    const match = page.getByRole("list", { name: "Matches" }).getByRole("listitem");
    await expect(match.getByRole("link", { name: /Dora Campo/ })).toBeVisible();
    await expect(match.locator(".custom-phone")).toHaveText("Work mobile: +55 11 97777-0004");
    await expect(match.locator(".custom-phone mark")).toHaveText("+55 11 97777-0004");
    await expectNoViolations(page);
    await snapshot(page, `custom-phone-field-${width}`);
  });
}
