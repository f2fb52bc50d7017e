import type { Page } from "@playwright/test";

import { testDb } from "./support/db.ts";
import { APP_URL, USERS } from "./support/env.ts";
import { expect, test } from "./support/fixtures.ts";
import { receivedMails } from "./support/mail.ts";

// Every time on the page is in the reader's zone, named once, from the first byte: the browser
// says its zone in a cookie, and the server renders with it, so nothing reads UTC until hydration.

/** The page's HTML as the server sends it, before any script runs (React's text separators removed). */
const serverHtml = async (page: Page, path: string) =>
  (await (await page.request.get(path)).text()).replaceAll("<!-- -->", "");

for (const [timezoneId, zone] of [
  ["America/Sao_Paulo", "GMT-3"],
  ["Asia/Tokyo", "GMT+9"],
] as const) {
  test(`in ${timezoneId}, the server renders times in the reader's zone, and the activity page names it`, async ({
    signedIn,
  }) => {
    const { page, integrations } = await signedIn("admin", { timezoneId });
    await integrations.connect();
    // The first page with JavaScript told the server the zone.
    const cookies = await page.context().cookies(APP_URL);
    expect(cookies.find((c) => c.name === "crm_tz")?.value).toBe(encodeURIComponent(timezoneId));

    // The HTML as the server sends it, before any script runs.
    const html = await serverHtml(page, "/settings/integrations/activity");
    expect(html.includes(`Times are in ${zone}.`), "the zone named once").toBe(true);
    expect(html.includes("Times are in UTC"), "no UTC before hydration").toBe(false);
    expect(new RegExp(`\\d{2}:\\d{2} ${zone.replace("+", "\\+")}<`).test(html), "times in the zone").toBe(true);
    expect(/\d{2}:\d{2} UTC</.test(html), "no time in UTC").toBe(false);

    // Without JavaScript too, from the cookie alone.
    const noScript = await signedIn("admin", { timezoneId, javaScriptEnabled: false });
    await noScript.page.context().addCookies(cookies.filter((c) => c.name === "crm_tz"));
    await noScript.page.goto("/settings/integrations/activity");
    await expect(noScript.page.getByRole("main")).toContainText(`Times are in ${zone}.`);
  });

  test(`in ${timezoneId}, an admin's mail gives its times in UTC and in ${zone}, the zone their page showed`, async ({
    signedIn,
  }) => {
    const { integrations } = await signedIn("admin", { timezoneId });
    await integrations.connect();
    await integrations.goto();
    const zoneOf = async () =>
      (
        await testDb.query<{ time_zone: string | null }>(`SELECT time_zone FROM users WHERE email = $1`, [
          USERS.admin.email,
        ])
      )[0]?.time_zone;
    await expect.poll(zoneOf).toBe(timezoneId);
    const disconnectMails = () =>
      receivedMails().filter(
        (m) => m.to.includes(USERS.admin.email) && m.subject.startsWith("Pipedrive was disconnected"),
      );
    const before = disconnectMails().length;
    await integrations.disconnect();
    await expect.poll(() => disconnectMails().length, { timeout: 30_000 }).toBe(before + 1);
    const text = disconnectMails().at(-1)!.text;
    expect(text).toMatch(
      new RegExp(`At \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC \\([^)]*\\d\\d:\\d\\d ${zone.replace("+", "\\+")}`),
    );
  });
}

test("a forged zone cookie is ignored: times stay in UTC, said as such", async ({ signedIn }) => {
  const { page } = await signedIn("admin", { javaScriptEnabled: false });
  await page.context().addCookies([{ name: "crm_tz", value: "Not/AZone<script>", url: APP_URL }]);
  const html = await serverHtml(page, "/settings/integrations/activity");
  expect(html.includes("Times are in UTC."), "said as UTC").toBe(true);
  expect(html.includes("Not/AZone"), "the cookie's value is never echoed").toBe(false);
});
