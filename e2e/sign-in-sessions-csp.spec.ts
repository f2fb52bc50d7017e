import { readFileSync } from "node:fs";
import path from "node:path";

import type { Browser, BrowserContext } from "@playwright/test";

import { zoneName } from "../lib/time-zone.ts";
import { testDb } from "./support/db.ts";
import { APP_URL, DEMO_TENANT_ID, STATE_DIR, USERS } from "./support/env.ts";
import { expect, snapshot, test } from "./support/fixtures.ts";
import { mock } from "./support/mock.ts";

// Attacks from the outside run, against the production build (issue: close what an outside attack found).

const serverLog = () => readFileSync(path.join(STATE_DIR, "server.log"), "utf8");

test("an open-redirect callbackUrl lands on our own page", async ({ signedIn }) => {
  const { page } = await signedIn("admin");
  for (const sneaky of [
    "%2F.%2F%2Fevil.example",
    "%2F%2e%2F%2Fevil.example",
    "%2Fa%2F..%2F%2Fevil.example",
    "%2F%5Cevil.example",
  ]) {
    const answer = await page.request.get(`/sign-in?callbackUrl=${sneaky}`, { maxRedirects: 0 });
    const location = answer.headers().location ?? "";
    expect(new URL(location, APP_URL).origin, sneaky).toBe(APP_URL);
  }
});

test("a wrong password writes no log line in the production build", async ({ page }) => {
  const before = serverLog().length;
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(USERS.member.email);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("That email and password do not match an account")).toBeVisible();
  // A request known to log one line, sent after the sign-in's answer: once its line is in, any
  // line the sign-in wrote would be too (one process, one log, in order).
  await page.request.get("/api/integrations/pipedrive/callback?state=log-marker", { maxRedirects: 0 });
  await expect.poll(() => serverLog().slice(before)).toContain("pipedrive callback");
  const lines = serverLog().slice(before).trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain("pipedrive callback");
});

test("repeated wrong passwords are throttled on the form and on Auth.js's endpoint, with Retry-After", async ({
  page,
  request,
}) => {
  // Accounts nobody uses, so the lockouts touch no other spec. Each client below keeps its own
  // loopback address (the browser and the request client may differ), as one attacker would.
  const email = "throttle-target@demo.test";
  const answers = [];
  for (let i = 0; i < 5; i++) {
    answers.push(
      await request.post("/sign-in/submit", {
        form: { email, password: `wrong-${i}`, callbackUrl: "/" },
        headers: { "Sec-Fetch-Site": "same-origin" },
        maxRedirects: 0,
      }),
    );
  }
  expect(answers.map((a) => a.status())).toEqual([303, 303, 303, 303, 303]);
  const paused = new URL(answers[4]!.headers().location!);
  expect(paused.searchParams.get("error")).toBe("paused");
  expect(Number(answers[4]!.headers()["retry-after"])).toBeGreaterThan(0);
  // The email never travels in the URL.
  for (const answer of answers) expect(answer.headers().location).not.toContain("throttle-target");

  const csrf = (await (await request.get("/api/auth/csrf")).json()) as { csrfToken: string };
  const direct = await request.post("/api/auth/callback/credentials", {
    form: { email, password: "wrong", csrfToken: csrf.csrfToken },
    maxRedirects: 0,
  });
  expect(direct.status()).toBe(429);
  expect(Number(direct.headers()["retry-after"])).toBeGreaterThan(0);

  // What a person sees on the form: the email kept, the password focused, a warning before the pause.
  const other = "throttle-target-2@demo.test";
  await page.goto("/sign-in?callbackUrl=%2Fsettings%2Fintegrations%3Flookup%3Dx");
  await page.getByLabel("Email").fill(other);
  for (let i = 0; i < 5; i++) {
    await page.getByLabel("Password").fill(`guess ${i}`);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(/error=/);
    await expect(page.getByLabel("Email")).toHaveValue(other);
    await expect(page.getByLabel("Password")).toBeFocused();
    if (i < 4) await expect(page.getByText("That email and password do not match an account")).toBeVisible();
    if (i === 2) await expect(page.locator(".banner")).toContainText("2 tries left before sign-in pauses");
    if (i === 3) await expect(page.locator(".banner")).toContainText("1 try left before sign-in pauses");
  }
  await expect(page.locator(".banner")).toContainText("Sign-in is paused");
  // In the reader's zone (the project's), never UTC for a reader elsewhere.
  const zone = zoneName(test.info().project.use.timezoneId ?? "UTC").replace("+", "\\+");
  await expect(page.locator(".banner")).toContainText(
    new RegExp(`until \\d{1,2} \\w{3} \\d{4}, \\d{2}:\\d{2}:\\d{2} ${zone}`),
  );
  await expect(page).toHaveTitle(/Sign-in paused/);
  await snapshot(page, "sign-in-paused");
  // Where the user was going is kept.
  expect(new URL(page.url()).searchParams.get("callbackUrl")).toBe("/settings/integrations?lookup=x");
});

test("sixty guesses sent at once admit no more than the limit, and the right password after them signs in on neither path", async ({
  request,
}) => {
  // The right password comes once the sixty have answered: sent among them, it may arrive first
  // on a loaded machine, and be one of the few guesses the limit admits, as it should be.
  const { email, password } = await testDb.createUser("parallel-guess-password");
  const form = (guess: string) => ({ email, password: guess, callbackUrl: "/" });
  // An address of this spec's own (no proxy in front: the header is the address), so its lockout touches no other spec.
  const headers = { "Sec-Fetch-Site": "same-origin", "X-Forwarded-For": "198.51.100.60" };
  const viaForm = await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      request.post("/sign-in/submit", { form: form(`wrong-${i}`), headers, maxRedirects: 0 }),
    ),
  );
  const pausedAnswers = viaForm.filter((r) => /[?&]error=paused/.test(r.headers().location ?? ""));
  expect(pausedAnswers.length).toBeGreaterThanOrEqual(55);
  const right = await request.post("/sign-in/submit", { form: form(password), headers, maxRedirects: 0 });
  expect(right.status()).toBe(303);
  expect(right.headers().location).toMatch(/[?&]error=paused/);
  expect(right.headers()["set-cookie"] ?? "").not.toContain("authjs.session-token=");

  const other = await testDb.createUser("parallel-guess-password-2");
  const csrf = (await (await request.get("/api/auth/csrf")).json()) as { csrfToken: string };
  const direct = (guess: string) =>
    request.post("/api/auth/callback/credentials", {
      form: { email: other.email, password: guess, csrfToken: csrf.csrfToken },
      headers: { "X-Forwarded-For": "198.51.100.61" },
      maxRedirects: 0,
    });
  const guesses = await Promise.all(Array.from({ length: 60 }, (_, i) => direct(`wrong-${i}`)));
  // A success is a redirect that sets a session cookie.
  const sessions = (answers: { headers(): Record<string, string> }[]) =>
    answers.filter((r) => (r.headers()["set-cookie"] ?? "").includes("authjs.session-token="));
  expect(sessions(guesses)).toHaveLength(0);
  expect(sessions([await direct(other.password)])).toHaveLength(0);
});

test("wrong passwords from rotating addresses keep out unknown clients, not a browser that signed in before", async ({
  browser,
  request,
}) => {
  const { email, password } = await testDb.createUser("device-cookie-password");
  const signIn = (client: typeof request, from: string, guess: string) =>
    client.post("/sign-in/submit", {
      form: { email, password: guess, callbackUrl: "/" },
      headers: { "Sec-Fetch-Site": "same-origin", "X-Forwarded-For": from },
      maxRedirects: 0,
    });
  const signedIn = (answer: Awaited<ReturnType<typeof signIn>>) =>
    answer.status() === 303 && !/sign-in/.test(answer.headers().location ?? "");
  const context = await browser.newContext();
  try {
    expect(signedIn(await signIn(context.request, "198.51.100.120", password))).toBe(true);
    expect((await context.cookies()).map((c) => c.name)).toContain("crm-device");
    // The attacker: ever new addresses, one wrong password each, past the account's limit.
    for (let i = 0; i < 25; i++) await signIn(request, `198.51.100.${130 + i}`, "wrong");
    expect((await signIn(request, "198.51.100.199", password)).headers().location).toMatch(/[?&]error=paused/);
    // The real user's browser, from an address it never used, still gets in.
    expect(signedIn(await signIn(context.request, "198.51.100.200", password))).toBe(true);
  } finally {
    await context.close();
  }
});

test("an email with a NUL byte is refused as a bad request on both paths, never a server error", async ({
  request,
}) => {
  const headers = { "Sec-Fetch-Site": "same-origin", "X-Forwarded-For": "198.51.100.62" };
  const viaForm = await request.post("/sign-in/submit", {
    form: { email: "admin\u0000@demo.test", password: "x", callbackUrl: "/" },
    headers,
    maxRedirects: 0,
  });
  expect(viaForm.status()).toBe(400);
  const csrf = (await (await request.get("/api/auth/csrf")).json()) as { csrfToken: string };
  const direct = await request.post("/api/auth/callback/credentials", {
    form: { email: "admin\u0000@demo.test", password: "x", csrfToken: csrf.csrfToken },
    headers: { "X-Forwarded-For": "198.51.100.62" },
    maxRedirects: 0,
  });
  expect(direct.status()).toBe(400);
  // Nothing was counted against the account or the address: no password was checked.
  expect(await testDb.query("SELECT 1 FROM rate_limits WHERE key LIKE '%198.51.100.62%'")).toEqual([]);
});

/** A browser of its own, signed in through the form as `user`. */
async function signInInNewBrowser(browser: Browser, user: { email: string; password: string }) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/settings\/integrations$/);
  return { context, page };
}

/** Auth.js's session update, as its client sends it: POST with the CSRF token, same origin. */
async function postSession(context: BrowserContext) {
  const { csrfToken } = (await (await context.request.get("/api/auth/csrf")).json()) as { csrfToken: string };
  return context.request.post("/api/auth/session", {
    headers: { Origin: APP_URL, "Sec-Fetch-Site": "same-origin" },
    data: { csrfToken },
  });
}

test("a session cookie copied before sign-out stops working after it", async ({ browser }) => {
  // Sign-out ends every session of the user: a user of its own, not one other specs share.
  const user = await testDb.createUser("disposable-password");
  const { context, page } = await signInInNewBrowser(browser, user);
  const copied = await context.storageState();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in/);
  await context.close();

  const thief = await browser.newContext({ storageState: copied });
  const stolen = await thief.newPage();
  await stolen.goto("/settings/integrations");
  await expect(stolen).toHaveURL(/\/sign-in\?callbackUrl=/);
  // Auth.js's own session endpoint agrees, and re-issues nothing.
  const session = await thief.request.get("/api/auth/session");
  expect(await session.json()).toBeNull();
  expect(session.headers()["set-cookie"] ?? "").not.toContain("authjs.session-token=ey");
  // Its POST (Auth.js's update) too: a signed-out session is no session there either.
  const update = await postSession(thief);
  expect(await update.json()).toBeNull();
  expect(update.headers()["set-cookie"] ?? "").not.toContain("authjs.session-token=ey");
  await thief.close();
});

test("a connect finished after sign-out, with the session cookie copied at its start, links nothing", async ({
  browser,
}) => {
  // The callback recognises the session a flow was started in without decrypting it again;
  // a session ended since must not be recognised.
  const user = await testDb.createUser("connect-then-sign-out", "admin");
  const { context, page } = await signInInNewBrowser(browser, user);
  await page.getByRole("region", { name: "Pipedrive" }).getByRole("button", { name: "Connect Pipedrive" }).click();
  await expect(page.getByRole("button", { name: "Allow" })).toBeVisible();
  const consent = page.url();
  const copied = await context.storageState();
  await page.goto("/settings/integrations");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in/);
  await context.close();

  const thief = await browser.newContext({ storageState: copied });
  const stolen = await thief.newPage();
  await stolen.goto(consent);
  await stolen.getByRole("button", { name: "Allow" }).click();
  await expect(stolen).toHaveURL(/\/sign-in\?callbackUrl=/);
  expect(await mock.tokenRequests()).toHaveLength(0);
  expect(await testDb.contractRows(DEMO_TENANT_ID)).toHaveLength(0);
  await thief.close();
});

test("Auth.js's session endpoint tells what the server knows: a demoted admin is a member there too", async ({
  browser,
}) => {
  const user = await testDb.createUser("demoted-password", "admin");
  const { context } = await signInInNewBrowser(browser, user);
  expect(await (await context.request.get("/api/auth/session")).json()).toMatchObject({ user: { role: "admin" } });
  await testDb.setRole(user.email, "member");
  expect(await (await context.request.get("/api/auth/session")).json()).toMatchObject({ user: { role: "member" } });
  expect(await (await postSession(context)).json()).toMatchObject({ user: { role: "member" } });
  await context.close();
});

test("pages run only scripts carrying the response's nonce, and the CSP lets forms reach only us and Pipedrive", async ({
  signedIn,
}) => {
  const { page, integrations } = await signedIn("admin");
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  const response = await page.goto("/settings/integrations");
  const csp = response?.headers()["content-security-policy"] ?? "";
  const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
  expect(nonce).toBeTruthy();
  expect(csp).toContain("'strict-dynamic'");
  expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
  expect(csp).toMatch(/form-action 'self' http:\/\/localhost:\d+;/);
  expect(response?.headers()["strict-transport-security"]).toBeUndefined(); // served over http here
  const scriptNonces = await page.evaluate(() => [...document.scripts].map((s) => s.nonce));
  expect(scriptNonces.length).toBeGreaterThan(0);
  expect(new Set(scriptNonces)).toEqual(new Set([nonce]));
  // The flows still work under it: connect through Pipedrive's consent and come back.
  await integrations.connect();
  expect(violations).toEqual([]);
});
