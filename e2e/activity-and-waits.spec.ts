import { zoneName } from "../lib/time-zone.ts";
import { expectNoViolations } from "./support/a11y.ts";
import { APP_URL, USERS } from "./support/env.ts";
import { expect, SCREENS, snapshot, test } from "./support/fixtures.ts";
import { mock } from "./support/mock.ts";

// What the page still owed an admin: a search that shows it is running, an uninstall done in
// Pipedrive that the card says (to members too), and an activity log that names who did what to
// which Pipedrive company. At 1280 and 390 px, with axe.

const CALLBACK = `${APP_URL}/api/integrations/pipedrive/callback`;

for (const { width, height, timezoneId: screenZone } of SCREENS) {
  const viewport = { width, height };

  test(`at ${width} px, Search shows it is running and takes no second press`, async ({ signedIn }) => {
    const { page, integrations } = await signedIn("admin", { viewport, timezoneId: screenZone });
    await integrations.connect();
    await integrations.goto();
    const search = page.getByRole("button", { name: "Search" });
    // The enhancement is in place once the page's script has run.
    await expect(search).toHaveAttribute("data-ready", "true");
    const searchCalls = async () => (await mock.requests()).filter((r) => r.path.includes("/persons/search")).length;
    // What one lookup of this number costs at Pipedrive, to compare a double press with.
    let before = await searchCalls();
    await integrations.lookup("+55 11 99999-0001");
    const perLookup = (await searchCalls()) - before;
    expect(perLookup).toBeGreaterThan(0);
    await integrations.goto();
    await expect(search).toHaveAttribute("data-ready", "true");

    // Under the suite's 1.5 s timeout for calls to Pipedrive (testing/support/e2e-app.ts).
    await mock.faults({ apiLatencyMs: 1200 });
    before = await searchCalls();
    await page.getByLabel("Phone number").fill("+55 11 99999-0001");
    await expectNoViolations(page);
    // While a form's POST is on its way, Playwright cannot query the page it leaves; what the
    // button became is recorded in the tab's sessionStorage and read on the next page.
    await page.evaluate(() => {
      const button = document.querySelector<HTMLButtonElement>("#lookup-title ~ form button")!;
      const status = button.nextElementSibling!;
      new MutationObserver(() => {
        const seen = `${button.getAttribute("aria-disabled")}|${button.textContent}|${status.textContent}`;
        sessionStorage.setItem("busy-states", `${sessionStorage.getItem("busy-states") ?? ""}${seen}\n`);
      }).observe(button.form!, { subtree: true, childList: true, attributes: true, characterData: true });
    });
    const posts: string[] = [];
    page.on("request", (request) => {
      if (request.method() === "POST") posts.push(request.url());
    });
    // A second press as soon as the first is on its way (the button says it is busy).
    await Promise.all([
      page.waitForURL(/lookup=/),
      page.evaluate(async () => {
        const button = document.querySelector<HTMLButtonElement>("#lookup-title ~ form button")!;
        button.click();
        await new Promise<void>((resolve) => {
          const busy = () =>
            button.getAttribute("aria-disabled") === "true" ? resolve() : requestAnimationFrame(busy);
          busy();
        });
        button.click();
      }),
    ]);
    await expect(page.getByRole("list", { name: "Matches" })).toContainText("Ana Souza");
    const states = (await page.evaluate(() => sessionStorage.getItem("busy-states"))) ?? "";
    expect(states).toMatch(
      /^true\|Searching… \d+\u00a0s of at most \d+\u00a0s\|Searching… This takes at most \d+ seconds\.$/m,
    );
    expect(posts.filter((url) => url.endsWith("/api/integrations/pipedrive/lookup"))).toHaveLength(1);
    expect((await searchCalls()) - before).toBe(perLookup);
    // The next page's Search is ready for the next number.
    await expect(page.getByRole("button", { name: "Search" })).not.toHaveAttribute("aria-disabled");
    await expectNoViolations(page);
  });

  test(`at ${width} px, an uninstall done in Pipedrive says so, with its date, to admins and members`, async ({
    signedIn,
  }) => {
    const { page, integrations } = await signedIn("admin", { viewport, timezoneId: screenZone });
    await integrations.connect();
    expect((await mock.uninstall(CALLBACK)).status).toBe(200);
    await integrations.goto();
    await expect(integrations.card().locator(".badge")).toHaveText("Uninstalled in Pipedrive");
    const today = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeZone: screenZone }).format(new Date());
    await expect(integrations.card()).toContainText(`On ${today}`);
    await expect(integrations.card()).toContainText("the app was uninstalled from Pat Pipedrive's Pipedrive account");
    await expect(integrations.connectButton()).toBeVisible();
    await expectNoViolations(page);
    await snapshot(page, `uninstalled-${width}`);

    const member = await signedIn("member", { viewport, timezoneId: screenZone });
    await member.integrations.goto();
    await expect(member.integrations.card().locator(".badge")).toHaveText("Uninstalled in Pipedrive");
    await expect(member.integrations.card()).toContainText(`Ask an admin to connect Pipedrive: ${USERS.admin.name}.`);
    await expect(member.page.getByRole("button", { name: "Ask an admin to connect Pipedrive" })).toBeVisible();
    await expect(member.integrations.connectButton()).toHaveCount(0);
    await expectNoViolations(member.page);
    await snapshot(member.page, `uninstalled-member-${width}`);

    // Connecting again ends it.
    await integrations.connect();
    await expect(integrations.card()).not.toContainText("uninstalled");
    await expect(page.getByRole("region", { name: "Recent activity" })).toContainText(
      "Uninstalled in Pipedrive · Acme Mock Company",
    );
    await expect(page.getByRole("region", { name: "Recent activity" })).toContainText("by Pat Pipedrive, in Pipedrive");
  });

  test(`at ${width} px, the activity log names who did what to which company, failed connects too`, async ({
    signedIn,
  }) => {
    const { page, integrations } = await signedIn("admin", { viewport, timezoneId: screenZone });
    await integrations.connect();
    // A reconnect cancelled on the consent page, and one whose code Pipedrive refuses.
    await integrations.goto();
    await integrations.reconnectButton().click();
    await integrations.deny();
    await mock.faults({ token: { mode: "invalid_grant", grant: "authorization_code" } });
    await integrations.goto();
    await integrations.reconnectButton().click();
    await page.getByRole("button", { name: "Allow" }).click();
    await page.waitForURL(/pipedrive=error/);
    await mock.faults({});
    await integrations.disconnect();

    const activity = page.getByRole("region", { name: "Recent activity" });
    const entries = activity.getByRole("listitem");
    await expect(entries.nth(0)).toContainText("Disconnected · Acme Mock Company");
    // Who, then when, as words, in the reader's zone: "by Dana Admin, 1 Dec 2026, 14:08 GMT-3".
    await expect(entries.nth(0)).toContainText(
      new RegExp(`by Dana Admin, \\d{1,2} \\w{3} \\d{4}, \\d{2}:\\d{2} ${zoneName(screenZone).replace("+", "\\+")}`),
    );
    await expect(entries.nth(1)).toContainText("Connect failed: Pipedrive did not complete the connection");
    await expect(entries.nth(2)).toContainText("Connect cancelled on Pipedrive's consent page");
    await expect(entries.nth(3)).toContainText("Connected · Acme Mock Company");
    await expect(entries.nth(3)).toContainText("by Dana Admin");
    await expectNoViolations(page);

    await activity.getByRole("link", { name: "Show all activity" }).click();
    await expect(page).toHaveTitle("Pipedrive activity · Integrations · CRM");
    await expect(page.getByRole("heading", { name: "Pipedrive activity", level: 1 })).toBeVisible();
    await expect(page.getByRole("listitem").filter({ hasText: "Disconnected" })).toContainText("by Dana Admin");
    await expectNoViolations(page);
    await snapshot(page, `activity-${width}`);

    // Members have no activity log, and its page is for admins only.
    const member = await signedIn("member", { viewport, timezoneId: screenZone });
    await member.page.goto("/settings/integrations/activity");
    await expect(member.page).toHaveURL(/reason=activity_admins_only/);
    await expect(member.page.locator(".page > .banner")).toContainText("The activity log is for admins");
    await expect(member.page.locator(".page > .banner")).not.toContainText("connect or disconnect");
  });

  test(`at ${width} px, Disconnect asks first and says what it does`, async ({ signedIn }) => {
    const { page, integrations } = await signedIn("admin", { viewport, timezoneId: screenZone });
    await integrations.connect();
    await integrations.openDisconnect();
    await expect(page.locator("main")).toContainText("Lead enrichment stops for the whole");
    await expectNoViolations(page);
    await snapshot(page, `disconnect-confirm-${width}`);
  });
}
