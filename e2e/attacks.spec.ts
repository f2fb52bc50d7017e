import { readFileSync } from "node:fs";
import path from "node:path";

import type { Page } from "@playwright/test";

import { testDb } from "./support/db.ts";
import { APP_URL, DEMO_TENANT_ID, MOCK_URL, OTHER_TENANT_ID, STATE_DIR, USERS } from "./support/env.ts";
import { expect, test } from "./support/fixtures.ts";
import { mock } from "./support/mock.ts";

const CALLBACK = "/api/integrations/pipedrive/callback";

/** Starts a flow and stops at the consent page; returns the callback URL Allow would send. */
async function consentUrl(page: Page): Promise<{ state: string; callbackWithCode: () => Promise<string> }> {
  await page.goto("/settings/integrations");
  await page
    .getByRole("region", { name: "Pipedrive" })
    .getByRole("button", { name: /Connect Pipedrive|Reconnect/ })
    .click();
  await expect(page.getByRole("button", { name: "Allow" })).toBeVisible();
  const consent = new URL(page.url()).searchParams;
  const state = consent.get("state") ?? "";
  const challenge = consent.get("code_challenge");
  return {
    state,
    // Press Allow but keep the redirect for ourselves, as an attacker holding the link would.
    callbackWithCode: async () => {
      const answer = await page.request.post(`${MOCK_URL}/oauth/authorize/decision`, {
        form: {
          decision: "allow",
          redirect_uri: `${APP_URL}${CALLBACK}`,
          state,
          ...(challenge ? { code_challenge: challenge } : {}),
        },
        maxRedirects: 0,
      });
      return answer.headers().location ?? "";
    },
  };
}

async function expectRefused(page: Page, reason: RegExp | string) {
  await expect(page).toHaveURL(/\/settings\/integrations\?pipedrive=error/);
  await expect(page.locator(".page > .banner")).toContainText(reason);
  await expect(page.getByRole("region", { name: "Pipedrive" }).locator(".badge")).toHaveText("Not connected");
}

test.describe("the callback refuses", () => {
  test("a callback without state and with a code Pipedrive never issued: a clear message, nothing linked", async ({
    signedIn,
  }) => {
    const { page } = await signedIn("admin");
    await page.goto(`${CALLBACK}?code=${mock.forgedCode("stolen-code")}`);
    await expect(page.locator(".page > .banner")).toContainText("That install link has expired");
    await expect(page.locator(".page > .banner").getByRole("button", { name: "Connect Pipedrive" })).toBeVisible();
    expect((await mock.tokenRequests()).map((r) => r.status)).toEqual([400]);
    expect(await testDb.contractRows(DEMO_TENANT_ID)).toHaveLength(0);
  });

  test("a tampered state", async ({ signedIn }) => {
    const { page } = await signedIn("admin");
    const flow = await consentUrl(page);
    const url = new URL(await flow.callbackWithCode());
    const state = url.searchParams.get("state")!;
    url.searchParams.set("state", `${state.slice(0, -2)}${state.endsWith("AA") ? "BB" : "AA"}`);
    await page.goto(url.toString());
    await expectRefused(page, "security check did not match");
    expect(await mock.tokenRequests()).toHaveLength(0);
  });

  test("an expired state", async ({ signedIn }) => {
    const { page } = await signedIn("admin");
    const flow = await consentUrl(page);
    const callback = await flow.callbackWithCode();
    await testDb.expireStates(DEMO_TENANT_ID);
    await page.goto(callback);
    await expectRefused(page, "took too long");
    expect(await mock.tokenRequests()).toHaveLength(0);
    expect(await testDb.contractRows(DEMO_TENANT_ID)).toHaveLength(0);
  });

  test("a replayed state: the token endpoint is called once at most", async ({ signedIn }) => {
    const { page } = await signedIn("admin");
    const flow = await consentUrl(page);
    const callback = await flow.callbackWithCode();
    await page.goto(callback);
    await expect(page).toHaveURL(/pipedrive=connected/);
    const [row] = await testDb.contractRows(DEMO_TENANT_ID);
    // The state cookie is gone after the first use; put it back to be sure the server refuses too.
    await page
      .context()
      .addCookies([
        { name: "pd_oauth_state", value: flow.state, url: `${APP_URL}${CALLBACK}`, httpOnly: true, sameSite: "Lax" },
      ]);
    await page.goto(callback);
    await expect(page).toHaveURL(/reason=state_reused/);
    await expect(page.locator(".page > .banner")).toContainText("already used");
    expect(await mock.tokenRequests("authorization_code")).toHaveLength(1);
    expect(await testDb.contractRows(DEMO_TENANT_ID)).toEqual([row]);
  });

  test("a state started in one browser and finished in another (same tenant's other admin session)", async ({
    signedIn,
  }) => {
    const a = await signedIn("admin");
    const b = await signedIn("admin");
    const callback = await (await consentUrl(a.page)).callbackWithCode();
    await b.page.goto(callback);
    await expectRefused(b.page, "security check did not match");
    expect(await mock.tokenRequests()).toHaveLength(0);
    expect(await testDb.contractRows(DEMO_TENANT_ID)).toHaveLength(0);
  });

  test("a state started by tenant A's admin and finished by tenant B's admin writes to neither", async ({
    signedIn,
  }) => {
    const a = await signedIn("admin");
    const b = await signedIn("otherAdmin");
    const flow = await consentUrl(a.page);
    const callback = await flow.callbackWithCode();
    // Even with A's state cookie planted in B's browser.
    await b.page
      .context()
      .addCookies([
        { name: "pd_oauth_state", value: flow.state, url: `${APP_URL}${CALLBACK}`, httpOnly: true, sameSite: "Lax" },
      ]);
    await b.page.goto(callback);
    await expectRefused(b.page, "security check did not match");
    expect(await mock.tokenRequests()).toHaveLength(0);
    expect(await testDb.contractRows(DEMO_TENANT_ID)).toHaveLength(0);
    expect(await testDb.contractRows(OTHER_TENANT_ID)).toHaveLength(0);
  });

  test("a code leaked from tenant A's flow, redeemed in tenant B's own flow: PKCE (on by default) refuses it", async ({
    signedIn,
  }) => {
    const a = await signedIn("admin");
    const b = await signedIn("otherAdmin");
    const flowA = await consentUrl(a.page);
    expect(new URL(a.page.url()).searchParams.get("code_challenge_method")).toBe("S256");
    const leakedCode = new URL(await flowA.callbackWithCode()).searchParams.get("code")!;
    const flowB = await consentUrl(b.page);
    await b.page.goto(`${CALLBACK}?${new URLSearchParams({ code: leakedCode, state: flowB.state })}`);
    await expectRefused(b.page, "Pipedrive did not complete the connection");
    expect((await mock.tokenRequests()).map((r) => r.status)).toEqual([400]);
    expect(await testDb.contractRows(OTHER_TENANT_ID)).toHaveLength(0);
    expect(await testDb.contractRows(DEMO_TENANT_ID)).toHaveLength(0);
  });

  test("a victim who never started a flow opening an attacker's callback link (login CSRF)", async ({ signedIn }) => {
    const attacker = await signedIn("otherAdmin");
    const callback = await (await consentUrl(attacker.page)).callbackWithCode();
    const victim = await signedIn("admin");
    await victim.page.goto(callback);
    await expectRefused(victim.page, "security check did not match");
    expect(await testDb.contractRows(DEMO_TENANT_ID)).toHaveLength(0);
    expect(await mock.tokenRequests()).toHaveLength(0);
  });
});

test.describe("a bad token answer is refused, nothing is written", () => {
  const faults = [
    ["api_domain outside the allowed hosts", "bad_api_domain", "exchange_failed", "answer could not be used"],
    ["no refresh_token", "no_refresh_token", "exchange_failed", "answer could not be used"],
    ["non-numeric expires_in", "string_expires_in", "exchange_failed", "answer could not be used"],
    ["HTML instead of JSON", "html", "exchange_failed", "answer could not be used"],
    ["HTTP 500", "500", "exchange_failed", "answer could not be used"],
    ["a timeout", "timeout", "exchange_timeout", "Pipedrive took too long to answer"],
  ] as const;
  for (const [name, mode, reason, words] of faults) {
    test(name, async ({ signedIn }) => {
      const { page, integrations } = await signedIn("admin");
      await mock.faults({ token: { mode } });
      await integrations.goto();
      await integrations.startConnect();
      await page.getByRole("button", { name: "Allow" }).click();
      await expect(page).toHaveURL(new RegExp(`reason=${reason}`), { timeout: 10_000 });
      await expectRefused(page, words);
      expect(await testDb.contractRows(DEMO_TENANT_ID)).toHaveLength(0);
    });
  }
});

test.describe("open redirects are closed", () => {
  for (const target of ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)"]) {
    test(`sign-in with callbackUrl ${target} stays on the site`, async ({ page }) => {
      await page.goto(`/sign-in?callbackUrl=${encodeURIComponent(target)}`);
      await page.getByLabel("Email").fill(USERS.admin.email);
      await page.getByLabel("Password").fill(USERS.admin.password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect(page).toHaveURL(`${APP_URL}/settings/integrations`);
    });
  }

  test("a signed-in user is not bounced off-site by the sign-in page either", async ({ signedIn }) => {
    const { page } = await signedIn("admin");
    await page.goto(`/sign-in?callbackUrl=${encodeURIComponent("//evil.example/x")}`);
    await expect(page).toHaveURL(`${APP_URL}/settings/integrations`);
  });
});

test("cross-site disconnect is refused", async ({ signedIn }) => {
  const { page, integrations } = await signedIn("admin");
  await integrations.connect();
  const attempts: Record<string, string>[] = [
    { "Sec-Fetch-Site": "cross-site", Origin: "https://evil.example" },
    { Origin: "https://evil.example" },
    { Origin: "null" },
    {},
  ];
  for (const headers of attempts) {
    const forged = await page.request.post("/api/integrations/pipedrive/disconnect", { headers, maxRedirects: 0 });
    expect(forged.status(), JSON.stringify(headers)).toBe(403);
  }
  expect(await testDb.contractRows(DEMO_TENANT_ID)).toHaveLength(1);
});

test("tokens never reach the browser or the server log", async ({ signedIn }) => {
  const { page, integrations } = await signedIn("admin");
  const bodies: string[] = [];
  page.on("response", async (response) => {
    if (!response.url().startsWith(APP_URL)) return;
    bodies.push(await response.text().catch(() => ""));
  });
  await integrations.connect();
  await integrations.lookup("+55 11 99999-0001");
  await testDb.expireAccessToken(DEMO_TENANT_ID);
  await integrations.lookup("+55 11 99999-0001"); // forces a refresh
  await mock.faults({ token: { mode: "bad_api_domain" } });
  await integrations.reconnectButton().click();
  await page.getByRole("button", { name: "Allow" }).click();
  await expect(page).toHaveURL(/exchange_failed/);
  bodies.push(await page.content());

  const issued = await mock.issuedTokens();
  expect(issued.length).toBeGreaterThanOrEqual(6);
  const served = bodies.join("\n");
  const log = readFileSync(path.join(STATE_DIR, "server.log"), "utf8");
  expect(log.length).toBeGreaterThan(0);
  for (const token of issued) {
    expect(served, "a token reached the browser").not.toContain(token);
    expect(log, "a token reached the server log").not.toContain(token);
  }
});

test("OAuth responses are never cached and never leak their URL as a referrer", async ({ signedIn }) => {
  const { page } = await signedIn("admin");
  for (const path of [`${CALLBACK}?code=x&state=y`, "/api/integrations/pipedrive/authorize"]) {
    const response = await page.request.get(path, { maxRedirects: 0 });
    expect(response.status(), path).toBe(302);
    expect(response.headers()["cache-control"], path).toBe("no-store");
    expect(response.headers()["referrer-policy"], path).toBe("no-referrer");
  }
  const started = await page.request.post("/api/integrations/pipedrive/authorize", {
    headers: { "Sec-Fetch-Site": "same-origin" },
    maxRedirects: 0,
  });
  expect(started.status()).toBe(303);
  expect(started.headers()["cache-control"]).toBe("no-store");
});

test("starting a flow is a same-site POST: a GET or another site's form writes no state and no cookie", async ({
  signedIn,
}) => {
  const { page } = await signedIn("admin");
  const byLink = await page.request.get("/api/integrations/pipedrive/authorize", { maxRedirects: 0 });
  expect(byLink.status()).toBe(302);
  expect(byLink.headers().location).toBe(`${APP_URL}/settings/integrations`);
  expect(byLink.headers()["set-cookie"] ?? "").not.toContain("pd_oauth_state");
  const crossSite = await page.request.post("/api/integrations/pipedrive/authorize", {
    headers: { "Sec-Fetch-Site": "cross-site", Origin: "https://evil.example" },
    maxRedirects: 0,
  });
  expect(crossSite.status()).toBe(403);
  expect(crossSite.headers()["set-cookie"] ?? "").not.toContain("pd_oauth_state");
  expect(await testDb.openStates(DEMO_TENANT_ID)).toBe(0);
  expect((await mock.requests()).filter((r) => r.path === "/oauth/authorize")).toHaveLength(0);
});

test("phone lookups are same-site POSTs: the number stays out of URLs, and other sites cannot spend the budget", async ({
  signedIn,
}) => {
  const { page, integrations } = await signedIn("admin");
  await integrations.connect();
  await integrations.lookup("+55 11 99999-0001");
  await expect(page.getByRole("list", { name: "Matches" })).toContainText("Ana Souza");
  expect(page.url()).not.toContain("99999");
  await mock.reset();
  // The old GET form's URL runs nothing.
  await page.goto("/settings/integrations?phone=%2B55%2011%2099999-0001");
  await expect(page.getByRole("list", { name: "Matches" })).toHaveCount(0);
  const crossSite = await page.request.post("/api/integrations/pipedrive/lookup", {
    form: { phone: "+55 11 99999-0001" },
    headers: { "Sec-Fetch-Site": "cross-site", Origin: "https://evil.example" },
    maxRedirects: 0,
  });
  expect(crossSite.status()).toBe(403);
  expect((await mock.requests()).filter((r) => r.path.includes("/persons/search"))).toHaveLength(0);
  const log = readFileSync(path.join(STATE_DIR, "server.log"), "utf8");
  expect(log).not.toContain("99999-0001");
});

test("junk lookups count against nothing and store nothing; one member cannot spend the workspace's limit", async ({
  signedIn,
}) => {
  const { page, integrations } = await signedIn("admin");
  await integrations.connect();
  const member = await signedIn("member");
  const lookup = (phone: string) =>
    member.page.request.post("/api/integrations/pipedrive/lookup", {
      form: { phone },
      headers: { "Sec-Fetch-Site": "same-origin", Origin: APP_URL },
      maxRedirects: 0,
    });
  await testDb.query("DELETE FROM pipedrive_lookups WHERE tenant_id = $1", [DEMO_TENANT_ID]);
  for (let i = 0; i < 40; i++) {
    const answer = await lookup(`junk ${i}`);
    expect(answer.headers().location).toContain("lookup_refused=characters");
  }
  let statuses: string[] = [];
  for (let i = 0; i < 15; i++) statuses.push(new URL((await lookup("+55 11 99999-0001")).headers().location!).search);
  statuses = statuses.map((search) => (search.includes("lookup_refused=busy_user") ? "refused" : "ran"));
  expect(statuses.filter((s) => s === "ran")).toHaveLength(10);
  const stored = await testDb.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pipedrive_lookups WHERE tenant_id = $1",
    [DEMO_TENANT_ID],
  );
  expect(stored[0]!.n).toBe(10);
  // The admin still searches, and the member's refusal is worded for them, with the field marked.
  await integrations.lookup("+55 11 99999-0001");
  await expect(page.getByRole("list", { name: "Matches" })).toContainText("Ana Souza");
  await member.integrations.goto();
  await member.integrations.lookup("call me");
  await expect(member.page.locator(".lookup-problem")).toHaveText(
    "A phone number can only have digits, spaces and + - ( ) . /",
  );
  await expect(member.page.getByLabel("Phone number")).toHaveAttribute("aria-invalid", "true");
});

test("the bench's floor page does not exist outside the bench, signed in or not", async ({ request, signedIn }) => {
  // It renders a workspace's settings without a session, so it must answer nothing here.
  expect((await request.get("/bench-floor")).status()).toBe(404);
  const { page } = await signedIn("admin");
  const answer = await page.goto("/bench-floor");
  expect(answer?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Pipedrive" })).toHaveCount(0);
});
