import { describe, expect, it } from "vitest";
import { z } from "zod";

import { MOCK_COMPANY } from "../../../testing/mock-pipedrive/index.ts";
import {
  answerSwitch,
  auditTrail,
  connectionRow,
  connectThroughMock,
  createTenant,
  mockPipedriveForFile,
  signedIn,
  TEST_REDIRECT_URI,
  testContext,
  tokenRequests,
  tokenRow,
} from "../../../testing/support/vitest-harness.ts";
import { db, sql } from "../../db.ts";
import { startAuthorization } from "./authorize.ts";
import { completeCallback } from "./callback.ts";
import { MAX_OPEN_STATES_PER_USER } from "./state-store.ts";

// What the outside attack run found in the connect flow (issue: close what an outside attack found).

const pd = mockPipedriveForFile();
const revokes = () => pd.mock.requests().filter((r) => r.path === "/oauth/revoke");
const me = (accessToken: string) =>
  fetch(`${pd.mock.url}/api/v1/users/me`, { headers: { Authorization: `Bearer ${accessToken}` } });

describe("open connect flows", () => {
  it("are capped per user, keeping the newest", async () => {
    const { tenantId, admin } = await createTenant();
    const started = [];
    for (let i = 0; i < 40; i++) started.push(await startAuthorization(pd.ctx, admin));
    expect(await db().oauthState.count({ where: { tenantId, userId: admin.id } })).toBe(MAX_OPEN_STATES_PER_USER);
    // The newest still completes.
    const newest = started.at(-1)!;
    const state = new URL(newest.url).searchParams.get("state")!;
    const { code } = pd.mock.authorize(TEST_REDIRECT_URI, state);
    expect(
      (await completeCallback(pd.ctx, signedIn(admin), { query: { code, state }, cookieState: newest.cookie.value }))
        .outcome,
    ).toEqual({ result: "connected" });
  });
});

describe("PKCE", () => {
  it("is on by default; switched off, no challenge is sent", async () => {
    const { admin } = await createTenant();
    const on = new URL((await startAuthorization(pd.ctx, admin)).url).searchParams;
    expect(on.get("code_challenge_method")).toBe("S256");
    expect(on.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const off = testContext(pd.mock, { pkce: false });
    expect(new URL((await startAuthorization(off, admin)).url).searchParams.has("code_challenge")).toBe(false);
  });

  it("binds the code to the flow: a code from someone else's flow cannot be redeemed", async () => {
    const ctx = pd.ctx;
    const victim = await createTenant();
    const attacker = await createTenant();
    // The victim's flow, with its challenge; the code leaks.
    const victimFlow = await startAuthorization(ctx, victim.admin);
    const consent = new URL(victimFlow.url).searchParams;
    expect(consent.get("code_challenge_method")).toBe("S256");
    const leaked = pd.mock.authorize(TEST_REDIRECT_URI, consent.get("state")!, consent.get("code_challenge")).code;
    // The attacker finishes a flow of their own with the leaked code.
    const attackerFlow = await startAuthorization(ctx, attacker.admin);
    const state = new URL(attackerFlow.url).searchParams.get("state")!;
    const result = await completeCallback(ctx, signedIn(attacker.admin), {
      query: { code: leaked, state },
      cookieState: attackerFlow.cookie.value,
    });
    expect(result.outcome).toEqual({ result: "error", reason: "exchange_failed" });
    expect(await tokenRow(attacker.tenantId)).toBeNull();
    // The honest flow with PKCE still connects.
    expect((await connectThroughMock(ctx, pd.mock, victim.admin)).outcome).toEqual({ result: "connected" });
  });
});

describe("grants we stop using are revoked", () => {
  it("reconnecting as another Pipedrive user asks first, then revokes the replaced install", async () => {
    const { tenantId, admin } = await createTenant();
    await connectThroughMock(pd.ctx, pd.mock, admin);
    const first = await tokenRow(tenantId);
    pd.mock.reset();
    const held = await connectThroughMock(pd.ctx, pd.mock, admin);
    expect(held.outcome).toEqual({ result: "confirm_switch" });
    // Nothing replaced and nothing revoked before the admin's yes.
    expect((await tokenRow(tenantId))!.accessToken).toBe(first!.accessToken);
    expect(revokes()).toHaveLength(0);
    expect((await answerSwitch(pd.ctx, admin, held)).outcome).toEqual({ result: "switched", revoke: "done" });
    expect(revokes().map((r) => r.status)).toEqual([200]);
    expect((await me(first!.accessToken)).status).toBe(401);
    expect((await me((await tokenRow(tenantId))!.accessToken)).status).toBe(200);
  });

  it("when saving fails after a good code exchange, the new grant is revoked and the admin sees an error", async () => {
    const { tenantId, admin } = await createTenant();
    // A constraint that fails this tenant's save, after the code exchange has succeeded.
    const flow = await startAuthorization(pd.ctx, admin);
    const state = new URL(flow.url).searchParams.get("state")!;
    const { code } = pd.mock.authorize(TEST_REDIRECT_URI, state);
    const constraint = `reject_${tenantId.replace(/-/g, "")}`;
    await sql().query(
      `ALTER TABLE pipedrive_connections ADD CONSTRAINT ${constraint} CHECK (tenant_id <> '${z.uuid().parse(tenantId)}'::uuid) NOT VALID`,
    );
    try {
      const result = await completeCallback(pd.ctx, signedIn(admin), {
        query: { code, state },
        cookieState: flow.cookie.value,
      });
      expect(result.outcome).toEqual({ result: "error", reason: "server_error" });
    } finally {
      await sql().query(`ALTER TABLE pipedrive_connections DROP CONSTRAINT ${constraint}`);
    }
    expect(await tokenRow(tenantId)).toBeNull();
    expect(revokes().map((r) => r.status)).toEqual([200]);
    const issued = pd.mock
      .issuedTokens()
      .filter((t) => t.startsWith("mock_at_"))
      .at(-1);
    expect((await me(issued!)).status).toBe(401);
  });

  it("a company name longer than any column used to be connects", async () => {
    const { tenantId, admin } = await createTenant();
    const longName = `${MOCK_COMPANY.name} ${"Internacional ".repeat(40)}`;
    const ctx = testContext(pd.mock, {
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        if (!String(input).endsWith("/api/v1/users/me")) return response;
        const body = (await response.json()) as { data: Record<string, unknown> };
        return Response.json({
          ...body,
          data: { ...body.data, company_name: longName, name: "N".repeat(600), company_domain: "d".repeat(300) },
        });
      },
    });
    expect((await connectThroughMock(ctx, pd.mock, admin)).outcome).toEqual({ result: "connected" });
    // Kept, shortened for people to read.
    expect((await connectionRow(tenantId))?.companyName).toBe(`${longName.slice(0, 199)}…`);
    expect(revokes()).toHaveLength(0);
    expect(await auditTrail(tenantId)).toEqual(["connected"]);
    expect(tokenRequests(pd.mock, "authorization_code")).toHaveLength(1);
  });
});
