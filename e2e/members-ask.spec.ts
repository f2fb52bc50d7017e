import { expectNoViolations } from "./support/a11y.ts";
import { keeperRunNow, testDb } from "./support/db.ts";
import { APP_URL, DEMO_TENANT_ID, USERS } from "./support/env.ts";
import { expect, SCREENS, snapshot, test } from "./support/fixtures.ts";
import { receivedMails } from "./support/mail.ts";

// A member who cannot connect or reconnect sees who can, and asks them from the page: the
// workspace's admins are mailed once a day per member (in the real mail catcher), and the
// activity log keeps it.

const mails = receivedMails;
const subject = `${USERS.member.name} asks you to connect Pipedrive for Demo Workspace`;

for (const { width, height, timezoneId: screenZone } of SCREENS) {
  test(`at ${width} px, a member sees the admins' names and asks them once a day`, async ({ signedIn }) => {
    test.setTimeout(60_000);
    const { page, integrations } = await signedIn("member", { viewport: { width, height }, timezoneId: screenZone });
    await integrations.goto();
    await expect(integrations.card()).toContainText(`Ask an admin to connect Pipedrive: ${USERS.admin.name}.`);
    const ask = page.getByRole("button", { name: "Ask an admin to connect Pipedrive" });
    await expectNoViolations(page);
    await snapshot(page, `member-ask-${width}`);
    const before = mails().filter((m) => m.subject === subject).length;

    await ask.click();
    await expect(integrations.banner()).toContainText("Your admins were asked");
    await expect(integrations.banner()).toContainText(`We mailed ${USERS.admin.name}`);
    await expect(page).toHaveTitle(/^Your admins were asked · Integrations/);
    // Once a day: a second ask mails nobody and says so.
    await page.getByRole("button", { name: "Ask an admin to connect Pipedrive" }).click();
    await expect(integrations.banner()).toContainText("You already asked today");
    expect((await testDb.auditTrail(DEMO_TENANT_ID)).filter((e) => e === "admins_asked")).toHaveLength(1);

    await keeperRunNow("pipedrive-notify");
    await expect.poll(() => mails().filter((m) => m.subject === subject).length, { timeout: 30_000 }).toBe(before + 1);
    const mail = mails()
      .filter((m) => m.subject === subject)
      .at(-1)!;
    expect(mail.to).toEqual([USERS.admin.email]);
    expect(mail.text).toContain("/settings/integrations");

    // The admin's activity log names who asked.
    const admin = await signedIn("admin", { viewport: { width, height }, timezoneId: screenZone });
    await admin.integrations.goto();
    await expect(admin.page.getByText(`${USERS.member.name} asked an admin to connect Pipedrive`)).toBeVisible();
  });
}

test("asking is for members of the workspace, from this site only", async ({ signedIn, request }) => {
  const ASK = `${APP_URL}/api/integrations/pipedrive/ask`;
  // Anonymous: to sign-in, nothing written.
  const anonymous = await request.post(ASK, { headers: { Origin: APP_URL }, form: {}, maxRedirects: 0 });
  expect(anonymous.status()).toBe(303);
  expect(anonymous.headers().location).toContain("/sign-in");
  // Cross-site: refused before anything is read.
  const { page } = await signedIn("member");
  const crossSite = await page.request.post(ASK, {
    headers: { Origin: "https://evil.example" },
    form: {},
    maxRedirects: 0,
  });
  expect(crossSite.status()).toBe(403);
  // An admin has nobody to ask.
  const admin = await signedIn("admin");
  const asAdmin = await admin.page.request.post(ASK, { headers: { Origin: APP_URL }, form: {}, maxRedirects: 0 });
  expect(asAdmin.headers().location).toContain("reason=forbidden");
  expect((await testDb.auditTrail(DEMO_TENANT_ID)).filter((e) => e === "admins_asked")).toHaveLength(0);
});
