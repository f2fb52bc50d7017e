import type { APIRequestContext } from "@playwright/test";

import { E2E_SERVICE_KEY } from "../testing/support/e2e-app.ts";
import { testDb } from "./support/db.ts";
import { APP_URL, DEMO_TENANT_ID, MOCK_URL, OTHER_TENANT_ID } from "./support/env.ts";
import { expect, test } from "./support/fixtures.ts";
import { startInstance, type Instance } from "./support/instance.ts";
import { mock } from "./support/mock.ts";

// The token endpoint for services, over HTTP to the production build: a service that takes its
// tokens here never refreshes, however many of its callers ask at once, and a condition is an
// answer in words, never a token.

const TOKEN = `${APP_URL}/api/services/pipedrive/token`;
const auth = { Authorization: `Bearer ${E2E_SERVICE_KEY}` };
const MOCK_HOST = new URL(MOCK_URL).host;

/**
 * 200 callers at once, spread over the instances at `bases`, ask for the demo workspace's token
 * just expired: every one gets it, the same one, from exactly one refresh at Pipedrive.
 */
async function expectOneRefreshFor200Callers(request: APIRequestContext, bases: string[]) {
  await testDb.expireAccessToken(DEMO_TENANT_ID);
  const before = (await mock.tokenRequests("refresh_token")).length;
  const answers = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      request.get(`${bases[i % bases.length]}/api/services/pipedrive/token?tenant_id=${DEMO_TENANT_ID}`, {
        headers: auth,
      }),
    ),
  );
  expect(answers.map((a) => a.status())).toEqual(Array(200).fill(200));
  const tokens = new Set(await Promise.all(answers.map(async (a) => (await a.json()).access_token as string)));
  expect(tokens.size).toBe(1);
  expect((await mock.tokenRequests("refresh_token")).length - before).toBe(1);
}

test("hands a connected workspace's token to a service with a key, and nothing to anyone else", async ({
  signedIn,
  request,
}) => {
  const { integrations } = await signedIn("admin");
  await integrations.connect();

  const wrongHeaders: Record<string, string>[] = [
    {},
    { Authorization: "Bearer wrong-key-wrong-key-wrong-key-wrong" },
    { Authorization: `Basic ${E2E_SERVICE_KEY}` },
  ];
  for (const headers of wrongHeaders) {
    const refused = await request.get(`${TOKEN}?tenant_id=${DEMO_TENANT_ID}`, { headers });
    expect(refused.status()).toBe(401);
    expect(refused.headers()["www-authenticate"]).toContain("Bearer");
    expect(await refused.text()).not.toContain("access_token");
  }
  expect((await request.get(`${TOKEN}?tenant_id=not-a-uuid`, { headers: auth })).status()).toBe(400);
  const unknown = await request.get(`${TOKEN}?tenant_id=${OTHER_TENANT_ID}`, { headers: auth });
  expect(unknown.status()).toBe(404);
  expect((await unknown.json()).error.code).toBe("not_connected");

  const answer = await request.get(`${TOKEN}?tenant_id=${DEMO_TENANT_ID}`, { headers: auth });
  expect(answer.status()).toBe(200);
  expect(answer.headers()["cache-control"]).toContain("no-store");
  const body = await answer.json();
  expect(Object.keys(body).sort()).toEqual(["access_token", "api_domain", "expires_at"]);
  expect(body.api_domain).toBe(MOCK_HOST);
  expect(await mock.accepts(body.access_token)).toBe(true);
});

test("200 callers at once with an expired token: one refresh at Pipedrive, one token for all", async ({
  signedIn,
  request,
}) => {
  const { integrations } = await signedIn("admin");
  await integrations.connect();
  await expectOneRefreshFor200Callers(request, [APP_URL]);
});

test.describe("across four instances of the app", () => {
  let others: Instance[] = [];
  test.beforeAll(async () => {
    test.setTimeout(180_000);
    others = await Promise.all([3194, 3195, 3196].map((port) => startInstance(port)));
  });
  test.afterAll(() => Promise.all(others.map((o) => o.stop())));

  test("200 callers spread over four processes with an expired token: exactly one refresh, one token", async ({
    signedIn,
    request,
  }) => {
    const { integrations } = await signedIn("admin");
    await integrations.connect();
    await expectOneRefreshFor200Callers(request, [APP_URL, ...others.map((o) => o.url)]);
  });
});

test.describe("with SERVICE_CALLS_PER_MINUTE at 3", () => {
  const key = "limited-service-key-limited-service-key-0001";
  let limited: Instance;
  test.beforeAll(async () => {
    test.setTimeout(120_000);
    limited = await startInstance(3197, {
      set: { SERVICE_API_KEYS: `limited=${key}`, SERVICE_CALLS_PER_MINUTE: "3" },
    });
  });
  test.afterAll(() => limited.stop());

  test("a service past its calls a minute is told to slow down, with Retry-After, and logged by name only", async ({
    request,
  }) => {
    const call = () =>
      request.get(`${limited.url}/api/services/pipedrive/token?tenant_id=${OTHER_TENANT_ID}`, {
        headers: { Authorization: `Bearer ${key}` },
      });
    for (let i = 0; i < 3; i++) expect((await call()).status()).toBe(404);
    const refused = await call();
    expect(refused.status()).toBe(429);
    expect(Number(refused.headers()["retry-after"])).toBeGreaterThanOrEqual(1);
    expect((await refused.json()).error.code).toBe("too_many_requests");
    await expect.poll(() => limited.output().match(/"service":"limited","status":429/g)?.length ?? 0).toBe(1);
    expect(limited.output()).not.toContain(key);
  });
});

test("a condition is the caller's error in words: 409 for a person to fix, 503 with Retry-After to wait", async ({
  signedIn,
  request,
}) => {
  const { integrations } = await signedIn("admin");
  await integrations.connect();
  await testDb.blockCompany(MOCK_HOST, new Date(Date.now() + 30 * 60_000));
  try {
    const paused = await request.get(`${TOKEN}?tenant_id=${DEMO_TENANT_ID}`, { headers: auth });
    expect(paused.status()).toBe(503);
    expect(Number(paused.headers()["retry-after"])).toBeGreaterThan(60);
    const body = await paused.json();
    expect(body.error.code).toBe("rate_limited");
    expect(new Date(body.error.retry_at).getTime()).toBeGreaterThan(Date.now());
    expect(JSON.stringify(body)).not.toContain("access_token");
  } finally {
    await testDb.blockCompany(MOCK_HOST, null);
  }

  await testDb.expireAccessToken(DEMO_TENANT_ID);
  await mock.faults({ token: { mode: "invalid_grant", grant: "refresh_token" } });
  const gone = await request.get(`${TOKEN}?tenant_id=${DEMO_TENANT_ID}`, { headers: auth });
  expect(gone.status()).toBe(409);
  const words = await gone.json();
  expect(words.error.code).toBe("needs_reconnect");
  expect(words.error.message).toMatch(/reconnect/i);
});

test("the lookup endpoint answers a service as the page does: v2 search, the same words, its own key", async ({
  signedIn,
  request,
}) => {
  const LOOKUP = `${APP_URL}/api/services/pipedrive/persons/search`;
  const { integrations } = await signedIn("admin");
  await integrations.connect();
  const ask = (data: unknown, headers: Record<string, string> = auth) =>
    request.post(LOOKUP, { headers: { ...headers, "Content-Type": "application/json" }, data });

  const found = await ask({ tenant_id: DEMO_TENANT_ID, phone: "+55 11 99999-0001" });
  expect(found.status()).toBe(200);
  const { people } = await found.json();
  expect(people.map((p: { name: string }) => p.name)).toEqual(["Ana Souza"]);
  expect((await mock.requests()).some((r) => r.path === "/api/v1/persons/search")).toBe(false);

  const badNumber = await ask({ tenant_id: DEMO_TENANT_ID, phone: "call me" });
  expect(badNumber.status()).toBe(400);
  expect((await badNumber.json()).error).toMatchObject({
    code: "invalid_input",
    message: expect.stringMatching(/digits|number/i),
  });
  expect((await ask("not json")).status()).toBe(400);
  expect((await ask({ tenant_id: DEMO_TENANT_ID, phone: "+55 11 99999-0001" }, {})).status()).toBe(401);
});
