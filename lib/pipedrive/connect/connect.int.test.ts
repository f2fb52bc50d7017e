import { describe, expect, it, vi } from "vitest";

import { MOCK_COMPANY, type TokenFault } from "../../../testing/mock-pipedrive/index.ts";
import {
  auditEvents,
  auditTrail,
  connectionRow,
  connectThroughMock,
  createTenant,
  expectedRefreshToken,
  mockPipedriveForFile,
  signedIn,
  TEST_REDIRECT_URI,
  testContext,
  tokenRequests,
  tokenRow,
} from "../../../testing/support/vitest-harness.ts";
import { ROUTES } from "../../routes.ts";
import { startAuthorization } from "./authorize.ts";
import { completeCallback } from "./callback.ts";
import { holdMarketplaceCode } from "./marketplace.ts";

const pd = mockPipedriveForFile();

async function begin(admin: Awaited<ReturnType<typeof createTenant>>["admin"], context = pd.ctx) {
  const started = await startAuthorization(context, admin);
  const state = new URL(started.url).searchParams.get("state") ?? "";
  return { started, state, cookie: started.cookie.value };
}

describe("authorize", () => {
  it("redirects to Pipedrive's consent page with client_id, redirect_uri and a fresh state", async () => {
    const { admin } = await createTenant();
    const first = await begin(admin);
    const second = await begin(admin);
    const url = new URL(first.started.url);
    expect(`${url.origin}${url.pathname}`).toBe(`${pd.mock.url}/oauth/authorize`);
    expect(url.searchParams.get("client_id")).toBe(pd.mock.clientId);
    expect(url.searchParams.get("redirect_uri")).toBe(TEST_REDIRECT_URI);
    expect(first.state).toMatch(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
    expect(first.state).not.toBe(second.state);
    expect(first.started.cookie.options).toMatchObject({
      httpOnly: true,
      sameSite: "lax",
      path: ROUTES.callback,
      maxAge: 600,
    });
  });
});

describe("callback", () => {
  it("connects: stores bare-host api_domain, expiry one token lifetime ahead, metadata and an audit event", async () => {
    const { tenantId, admin } = await createTenant();
    const before = Date.now();
    const result = await connectThroughMock(pd.ctx, pd.mock, admin);
    expect(result.outcome).toEqual({ result: "connected" });

    const row = await tokenRow(tenantId);
    expect(row?.apiDomain).toBe(pd.mock.host);
    expect(row?.apiDomain).not.toMatch(/^https?:/);
    expect(row?.accessToken).toMatch(/^mock_at_/);
    expect(row?.refreshToken).toMatch(/^mock_rt_/);
    const expiresIn = (row!.expiresAt.getTime() - before) / 1000;
    expect(expiresIn).toBeGreaterThan(3590);
    expect(expiresIn).toBeLessThan(3610);

    const meta = await connectionRow(tenantId);
    expect(meta).toMatchObject({
      status: "connected",
      companyId: MOCK_COMPANY.id,
      companyName: MOCK_COMPANY.name,
      pipedriveUserId: result.who.userId,
      pipedriveUserName: `Mock User ${result.who.userId}`,
      connectedByUserId: admin.id,
      scopes: ["base", "contacts:read"],
    });
    expect(await auditTrail(tenantId)).toEqual(["connected"]);
    const exchange = tokenRequests(pd.mock, "authorization_code");
    expect(exchange).toHaveLength(1);
  });

  it("reconnecting replaces the row: new tokens, still one row, audit shows both", async () => {
    const { tenantId, admin } = await createTenant();
    const { who } = await connectThroughMock(pd.ctx, pd.mock, admin);
    const first = await tokenRow(tenantId);
    const again = await connectThroughMock(pd.ctx, pd.mock, admin, { who });
    expect(again.outcome).toEqual({ result: "reconnected" });
    const second = await tokenRow(tenantId);
    expect(second?.accessToken).not.toBe(first?.accessToken);
    expect(expectedRefreshToken(pd.mock, first!.refreshToken, second!.refreshToken, "reinstall")).toBe(true);
    expect(await auditTrail(tenantId)).toEqual(["connected", "reconnected"]);
  });

  it("two admins connecting at once leave one consistent row", async () => {
    const { tenantId, admin } = await createTenant();
    // Three Pipedrive users at once: each either connects, or, once another has, waits for a
    // confirmation of the switch; never a half-written row.
    const results = await Promise.all([
      connectThroughMock(pd.ctx, pd.mock, admin),
      connectThroughMock(pd.ctx, pd.mock, admin),
      connectThroughMock(pd.ctx, pd.mock, admin),
    ]);
    // One connects; one that lands after it says what it did to that connection instead.
    const saved = ["connected", "reconnected", "switched"];
    const outcomes = results.map((r) => r.outcome.result);
    expect(outcomes.filter((o) => !saved.includes(o) && o !== "confirm_switch")).toEqual([]);
    expect(outcomes.filter((o) => o === "connected")).toHaveLength(1);
    const row = await tokenRow(tenantId);
    // The stored pair is one the pd.mock issued together: the access token still works.
    const answer = await fetch(`${pd.mock.url}/api/v1/users/me`, {
      headers: { Authorization: `Bearer ${row?.accessToken}` },
    });
    expect(answer.status).toBe(200);
    expect(await auditEvents(tenantId)).toHaveLength(outcomes.filter((o) => saved.includes(o)).length);
  });

  it("reports a denial at Pipedrive as denied and writes nothing", async () => {
    const { tenantId, admin } = await createTenant();
    const { state, cookie } = await begin(admin);
    const result = await completeCallback(pd.ctx, signedIn(admin), {
      query: { error: "access_denied", state },
      cookieState: cookie,
    });
    expect(result.outcome).toEqual({ result: "denied" });
    expect(await tokenRow(tenantId)).toBeNull();
    expect(tokenRequests(pd.mock)).toHaveLength(0);
    // The activity log names the cancel, as this admin's.
    expect(await auditTrail(tenantId)).toEqual(["connect_cancelled"]);
    expect((await auditEvents(tenantId))[0]?.actorUserId).toBe(admin.id);
  });

  it("writes nothing for a Deny without state that no flow of this browser's holds: anyone can send that link", async () => {
    const { tenantId, admin, member } = await createTenant();
    const deny = { query: { error: "user_denied" }, cookieState: undefined };
    for (const who of [admin, member, null])
      for (let i = 0; i < 3; i++)
        expect((await completeCallback(pd.ctx, signedIn(who), deny)).outcome).toEqual({ result: "install_cancelled" });
    expect(await auditTrail(tenantId)).toEqual([]);
    expect(tokenRequests(pd.mock)).toHaveLength(0);
    // Any other error without a state is still refused as one.
    const other = await completeCallback(pd.ctx, signedIn(admin), {
      query: { error: "server_error" },
      cookieState: undefined,
    });
    expect(other.outcome).toMatchObject({ result: "error" });
  });

  it("logs a Marketplace Deny once for the admin whose browser holds the install, and drops the install", async () => {
    const { tenantId, admin } = await createTenant();
    const held = await holdMarketplaceCode(pd.ctx, { code: `held-${Date.now()}-code` }, `192.0.2.${Date.now() % 250}`);
    if (!("held" in held)) throw new Error("the install was not held");
    const deny = { query: { error: "user_denied" }, cookieState: undefined, installCookie: held.held.value };
    expect((await completeCallback(pd.ctx, signedIn(admin), deny)).outcome).toEqual({ result: "denied" });
    expect((await completeCallback(pd.ctx, signedIn(admin), deny)).outcome).toEqual({ result: "install_cancelled" });
    expect(await auditTrail(tenantId)).toEqual(["connect_cancelled"]);
    expect(tokenRequests(pd.mock)).toHaveLength(0);
  });

  describe("refuses a bad state without calling the token endpoint or writing", () => {
    const cases: [
      string,
      string,
      (s: { state: string; cookie: string; code: string }) => Record<string, string | undefined>,
    ][] = [
      ["missing", "state_missing", ({ code }) => ({ code })],
      [
        "tampered",
        "state_invalid",
        ({ code, state }) => ({
          code,
          state: `${state.slice(0, 10)}${state[10] === "A" ? "B" : "A"}${state.slice(11)}`,
        }),
      ],
      [
        "forged with a wrong signature",
        "state_invalid",
        ({ code, state }) => ({ code, state: `${state.split(".")[0]}.${"A".repeat(43)}` }),
      ],
      ["garbage", "state_invalid", ({ code }) => ({ code, state: "tenant=11111111-1111-4111-8111-111111111111" })],
    ];
    for (const [name, reason, query] of cases) {
      it(`state ${name} → ${reason}`, async () => {
        const { tenantId, admin } = await createTenant();
        const { state, cookie } = await begin(admin);
        const { code } = pd.mock.authorize(TEST_REDIRECT_URI, state);
        const result = await completeCallback(pd.ctx, signedIn(admin), {
          query: query({ state, cookie, code }),
          cookieState: cookie,
        });
        expect(result.outcome).toEqual({ result: "error", reason });
        expect(tokenRequests(pd.mock)).toHaveLength(0);
        expect(await tokenRow(tenantId)).toBeNull();
        // A callback we could not tie to this admin's flow writes nothing, not even to the activity log.
        expect(await auditTrail(tenantId)).toEqual([]);
      });
    }
  });

  it("rejects a state used twice, and calls the token endpoint once at most", async () => {
    const { tenantId, admin } = await createTenant();
    const { state, cookie } = await begin(admin);
    const { code } = pd.mock.authorize(TEST_REDIRECT_URI, state);
    const first = await completeCallback(pd.ctx, signedIn(admin), { query: { code, state }, cookieState: cookie });
    const firstRow = await tokenRow(tenantId);
    const second = await completeCallback(pd.ctx, signedIn(admin), { query: { code, state }, cookieState: cookie });
    expect(first.outcome).toEqual({ result: "connected" });
    expect(second.outcome).toEqual({ result: "error", reason: "state_reused" });
    expect(tokenRequests(pd.mock)).toHaveLength(1);
    expect(await tokenRow(tenantId)).toEqual(firstRow);
  });

  it("lets exactly one of two simultaneous callbacks with the same state through", async () => {
    const { admin } = await createTenant();
    const { state, cookie } = await begin(admin);
    const { code } = pd.mock.authorize(TEST_REDIRECT_URI, state);
    const results = await Promise.all(
      [1, 2, 3].map(() => completeCallback(pd.ctx, signedIn(admin), { query: { code, state }, cookieState: cookie })),
    );
    expect(results.filter((r) => r.outcome.result === "connected")).toHaveLength(1);
    expect(tokenRequests(pd.mock)).toHaveLength(1);
  });

  it("rejects an expired state", async () => {
    const { tenantId, admin } = await createTenant();
    let now = new Date("2026-11-27T10:00:00Z");
    const clocked = testContext(pd.mock, { now: () => now });
    const { state, cookie } = await begin(admin, clocked);
    const { code } = pd.mock.authorize(TEST_REDIRECT_URI, state);
    now = new Date(now.getTime() + 601_000);
    const result = await completeCallback(clocked, signedIn(admin), { query: { code, state }, cookieState: cookie });
    expect(result.outcome).toEqual({ result: "error", reason: "state_expired" });
    expect(tokenRequests(pd.mock)).toHaveLength(0);
    expect(await tokenRow(tenantId)).toBeNull();
  });

  it("rejects a state finished in another browser (no or different state cookie)", async () => {
    const { tenantId, admin } = await createTenant();
    const { state } = await begin(admin);
    const other = await begin(admin);
    const { code } = pd.mock.authorize(TEST_REDIRECT_URI, state);
    for (const cookieState of [undefined, other.cookie]) {
      const result = await completeCallback(pd.ctx, signedIn(admin), { query: { code, state }, cookieState });
      expect(result.outcome).toEqual({ result: "error", reason: "state_invalid" });
    }
    expect(tokenRequests(pd.mock)).toHaveLength(0);
    expect(await tokenRow(tenantId)).toBeNull();
  });

  it("rejects a state finished by another admin of the same tenant", async () => {
    const a = await createTenant();
    const colleague = { ...a.admin, id: (await createTenant()).admin.id };
    const { state, cookie } = await begin(a.admin);
    const { code } = pd.mock.authorize(TEST_REDIRECT_URI, state);
    const result = await completeCallback(pd.ctx, signedIn(colleague), { query: { code, state }, cookieState: cookie });
    expect(result.outcome).toEqual({ result: "error", reason: "state_invalid" });
    expect(await tokenRow(a.tenantId)).toBeNull();
  });

  it("rejects a state started in tenant A and finished by tenant B's admin, writing to neither", async () => {
    const a = await createTenant("A");
    const b = await createTenant("B");
    const { state, cookie } = await begin(a.admin);
    const { code } = pd.mock.authorize(TEST_REDIRECT_URI, state);
    // Even with A's cookie replayed into B's browser, B's session cannot consume A's state.
    const result = await completeCallback(pd.ctx, signedIn(b.admin), { query: { code, state }, cookieState: cookie });
    expect(result.outcome).toEqual({ result: "error", reason: "state_invalid" });
    expect(await tokenRow(a.tenantId)).toBeNull();
    expect(await tokenRow(b.tenantId)).toBeNull();
    expect(tokenRequests(pd.mock)).toHaveLength(0);
    // A's own flow is not burnt by B's attempt.
    const own = await completeCallback(pd.ctx, signedIn(a.admin), { query: { code, state }, cookieState: cookie });
    expect(own.outcome).toEqual({ result: "connected" });
  });

  it("refuses a callback for a victim who never started a flow (login CSRF)", async () => {
    const attacker = await createTenant("Attacker");
    const victim = await createTenant("Victim");
    const { state } = await begin(attacker.admin);
    const { code } = pd.mock.authorize(TEST_REDIRECT_URI, state);
    const result = await completeCallback(pd.ctx, signedIn(victim.admin), {
      query: { code, state },
      cookieState: undefined,
    });
    expect(result.outcome).toEqual({ result: "error", reason: "state_invalid" });
    expect(await tokenRow(victim.tenantId)).toBeNull();
  });

  it("refuses a callback without a session", async () => {
    const { admin } = await createTenant();
    const { state, cookie } = await begin(admin);
    const result = await completeCallback(pd.ctx, signedIn(null), { query: { code: "x", state }, cookieState: cookie });
    expect(result.outcome).toEqual({ result: "error", reason: "session_missing" });
  });

  it("refuses a user demoted to member between authorize and callback", async () => {
    const { tenantId, admin } = await createTenant();
    const { state, cookie } = await begin(admin);
    const { code } = pd.mock.authorize(TEST_REDIRECT_URI, state);
    const result = await completeCallback(pd.ctx, signedIn({ ...admin, role: "member" }), {
      query: { code, state },
      cookieState: cookie,
    });
    expect(result.outcome).toEqual({ result: "error", reason: "forbidden" });
    expect(await tokenRow(tenantId)).toBeNull();
    expect(tokenRequests(pd.mock)).toHaveLength(0);
  });

  describe("treats a bad token answer as a failed exchange and writes nothing", () => {
    const faults: TokenFault[] = [
      "bad_api_domain",
      "no_refresh_token",
      "string_expires_in",
      "html",
      "malformed",
      "500",
      "timeout",
      "invalid_grant",
    ];
    for (const fault of faults) {
      it(`token endpoint fault: ${fault}`, async () => {
        const { tenantId, admin } = await createTenant();
        pd.mock.setFaults({ token: { mode: fault } });
        const quick = testContext(pd.mock, { timeoutMs: 300 });
        const result = await connectThroughMock(quick, pd.mock, admin);
        // A timeout is told apart: "Pipedrive took too long to answer".
        const reason = fault === "timeout" ? "exchange_timeout" : "exchange_failed";
        expect(result.outcome).toEqual({ result: "error", reason });
        expect(await tokenRow(tenantId)).toBeNull();
        expect(await connectionRow(tenantId)).toBeNull();
      });
    }
  });

  it("rejects a code the pd.mock never issued (Pipedrive's invalid_grant)", async () => {
    const { tenantId, admin } = await createTenant();
    const { state, cookie } = await begin(admin);
    const result = await completeCallback(pd.ctx, signedIn(admin), {
      query: { code: "made-up", state },
      cookieState: cookie,
    });
    expect(result.outcome).toEqual({ result: "error", reason: "exchange_failed" });
    expect(await tokenRow(tenantId)).toBeNull();
    // A verified flow that failed is this admin's failed connect, in the activity log.
    const [failed] = await auditEvents(tenantId);
    expect(failed).toMatchObject({
      event: "connect_failed",
      actorUserId: admin.id,
      detail: { reason: "exchange_failed" },
    });
  });

  it("never logs a token, whatever the outcome", async () => {
    const lines: string[] = [];
    const spies = (["log", "info", "warn", "error", "debug"] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" "))),
    );
    try {
      const { admin } = await createTenant();
      await connectThroughMock(pd.ctx, pd.mock, admin);
      for (const fault of ["bad_api_domain", "malformed", "string_expires_in"] as const) {
        pd.mock.setFaults({ token: { mode: fault } });
        const result = await connectThroughMock(pd.ctx, pd.mock, admin);
        lines.push(result.detail);
      }
    } finally {
      spies.forEach((spy) => spy.mockRestore());
    }
    const issued = pd.mock.issuedTokens();
    expect(issued.length).toBeGreaterThan(3);
    for (const token of issued) expect(lines.join("\n")).not.toContain(token);
  });
});

describe("a connect someone is waiting on", () => {
  it("gives up on a token endpoint that does not answer after 5 s, whatever the general timeout", async () => {
    const { tenantId, admin } = await createTenant();
    pd.mock.setFaults({ token: { mode: "timeout" } });
    const patient = testContext(pd.mock, { timeoutMs: 30_000 });
    const result = await connectThroughMock(patient, pd.mock, admin);
    expect(result.outcome).toEqual({ result: "error", reason: "exchange_timeout" });
    expect(result.detail).toContain("no answer within 5000 ms");
    expect(await tokenRow(tenantId)).toBeNull();
  }, 60_000);
});
