import { describe, expect, it } from "vitest";
import { z } from "zod";

import { freshIdentity, type Identity, type Reinstall } from "../../../testing/mock-pipedrive/index.ts";
import {
  answerSwitch,
  auditEvents,
  auditTrail,
  connectedTenant as connectedTenantOf,
  connectionRow,
  connectThroughMock,
  createTenant,
  expireAccessToken,
  mockPipedriveForFile,
  signedIn,
  TEST_REDIRECT_URI,
  tokenRow,
} from "../../../testing/support/vitest-harness.ts";
import { sql } from "../../db.ts";
import { isAppError } from "../../errors.ts";
import { basicAuth } from "../client/http.ts";
import { searchPersonsByPhone } from "../lookup/person-search.ts";
import { getValidAccessToken } from "../tokens/access.ts";
import { startAuthorization } from "./authorize.ts";
import { completeCallback } from "./callback.ts";
import { disconnect, handleUninstall } from "./disconnect.ts";

// Pipedrive's documented install model: an install is one user's, in one company, for one app;
// revoking its refresh token uninstalls it. Every test here failed before the app followed it.

const pd = mockPipedriveForFile();

const revokes = () => pd.mock.requests().filter((r) => r.path === "/oauth/revoke");
const works = async (accessToken: string) =>
  (await fetch(`${pd.mock.url}/api/v1/users/me`, { headers: { Authorization: `Bearer ${accessToken}` } })).status ===
  200;
const connectedTenant = (who?: Identity) => connectedTenantOf(pd, who);

function uninstallNotice(who: Identity) {
  return new Request(TEST_REDIRECT_URI, {
    method: "DELETE",
    headers: { "content-type": "application/json", authorization: basicAuth(pd.mock.clientId, pd.mock.clientSecret) },
    body: JSON.stringify({
      client_id: pd.mock.clientId,
      company_id: who.companyId,
      user_id: who.userId,
      timestamp: new Date().toISOString(),
    }),
  });
}

describe("Pipedrive's uninstall notice", () => {
  it("leaves a workspace connected when another user of the same company uninstalls their own copy", async () => {
    const { tenantId, who } = await connectedTenant();
    const colleague = freshIdentity(who.companyId);
    expect(await handleUninstall(pd.ctx, uninstallNotice(colleague))).toEqual({ status: 200, tenants: 0 });
    const row = await tokenRow(tenantId);
    expect(row).not.toBeNull();
    expect(await works(row!.accessToken)).toBe(true);
    expect(await auditTrail(tenantId)).toEqual(["connected"]);
  });

  it("removes the workspace whose company and user both match", async () => {
    const { tenantId, who } = await connectedTenant();
    expect(await handleUninstall(pd.ctx, uninstallNotice({ ...who, companyId: who.companyId + 1 }))).toEqual({
      status: 200,
      tenants: 0,
    });
    expect(await handleUninstall(pd.ctx, uninstallNotice(who))).toEqual({ status: 200, tenants: 1 });
    expect(await tokenRow(tenantId)).toBeNull();
    expect(await auditTrail(tenantId)).toEqual(["connected", "uninstalled"]);
  });
});

describe.each<Reinstall>(["same-grant", "replace-grant"])("a reconnect (second exchange: %s)", (reinstall) => {
  it("by the same Pipedrive user revokes nothing, and the row's tokens work afterwards", async () => {
    const { tenantId, admin, who } = await connectedTenant();
    pd.mock.configure({ reinstall });
    expect((await connectThroughMock(pd.ctx, pd.mock, admin, { who })).outcome).toEqual({ result: "reconnected" });
    expect(revokes()).toHaveLength(0);
    expect(pd.mock.uninstalls()).toEqual([]);
    const row = await tokenRow(tenantId);
    expect(await works(row!.accessToken)).toBe(true);
    // The refresh token works too.
    await expireAccessToken(tenantId);
    expect(await works((await getValidAccessToken(pd.ctx, tenantId)).accessToken)).toBe(true);
  });

  it("by another Pipedrive user asks first; Cancel keeps the connection and gives the new grant back", async () => {
    const { tenantId, admin } = await connectedTenant();
    const first = await tokenRow(tenantId);
    pd.mock.configure({ reinstall });
    const other = freshIdentity();
    const held = await connectThroughMock(pd.ctx, pd.mock, admin, { who: other });
    expect(held.outcome).toEqual({ result: "confirm_switch" });
    expect((await answerSwitch(pd.ctx, admin, held, "cancel")).outcome).toEqual({ result: "install_cancelled" });
    expect(await tokenRow(tenantId)).toEqual(first);
    expect(pd.mock.uninstalls()).toMatchObject([other]);
    expect(await works(first!.accessToken)).toBe(true);
  });

  it("by another Pipedrive user, once confirmed, revokes the replaced install, which was this workspace's alone", async () => {
    const { tenantId, admin, who } = await connectedTenant();
    const first = await tokenRow(tenantId);
    pd.mock.configure({ reinstall });
    const other = freshIdentity();
    const held = await connectThroughMock(pd.ctx, pd.mock, admin, { who: other });
    expect(revokes()).toHaveLength(0);
    expect((await answerSwitch(pd.ctx, admin, held)).outcome).toEqual({ result: "switched", revoke: "done" });
    expect(revokes().map((r) => r.status)).toEqual([200]);
    // The activity log says from whom, and to whom.
    const switched = (await auditEvents(tenantId)).at(-1);
    expect(switched).toMatchObject({
      event: "reconnected",
      detail: { fromPipedriveUserId: who.userId, pipedriveUserId: other.userId, pipedriveUserName: expect.any(String) },
    });
    expect(pd.mock.uninstalls()).toMatchObject([who]);
    expect(await works(first!.accessToken)).toBe(false);
    expect(await works((await tokenRow(tenantId))!.accessToken)).toBe(true);
  });
});

describe.each<Reinstall>(["same-grant", "replace-grant"])("one Pipedrive login, two workspaces (%s)", (reinstall) => {
  it("is not linked to the second workspace; the first keeps working and nothing is revoked", async () => {
    const b = await connectedTenant();
    const a = await createTenant("Second workspace");
    pd.mock.configure({ reinstall });
    const result = await connectThroughMock(pd.ctx, pd.mock, a.admin, { who: b.who });
    expect(result.outcome).toEqual({ result: "error", reason: "install_in_use" });
    expect(await tokenRow(a.tenantId)).toBeNull();
    expect(revokes()).toHaveLength(0);
    // The exchange may have replaced the install's token set: B's row has the live one.
    const row = await tokenRow(b.tenantId);
    expect(await works(row!.accessToken)).toBe(true);
    await expireAccessToken(b.tenantId);
    expect(await works((await getValidAccessToken(pd.ctx, b.tenantId)).accessToken)).toBe(true);
    expect(await connectionRow(b.tenantId)).toMatchObject({ status: "connected" });
  });
});

describe("disconnect", () => {
  it("does not revoke an install another workspace still uses", async () => {
    const b = await connectedTenant();
    const a = await createTenant("Shares B's install (connected before this rule)");
    // Rows written before the rule existed: both workspaces hold the same install.
    await sql().query(
      `INSERT INTO lead_pipedrive_integrations SELECT $2::uuid, access_token, refresh_token, expires_at, api_domain
       FROM lead_pipedrive_integrations WHERE tenant_id = $1::uuid`,
      [b.tenantId, a.tenantId],
    );
    await sql().query(
      `INSERT INTO pipedrive_connections (tenant_id, status, company_id, company_name, company_domain, pipedrive_user_id,
         pipedrive_user_name, scopes, connected_by_name, connected_at, updated_at)
       SELECT $2::uuid, status, company_id, company_name, company_domain, pipedrive_user_id, pipedrive_user_name, scopes,
         connected_by_name, connected_at, now() FROM pipedrive_connections WHERE tenant_id = $1::uuid`,
      [b.tenantId, a.tenantId],
    );
    expect(await disconnect(pd.ctx, a.admin)).toEqual({ removed: true, revoke: "kept" });
    expect(revokes()).toHaveLength(0);
    expect(await works((await tokenRow(b.tenantId))!.accessToken)).toBe(true);
  });

  it("revokes an install that is this workspace's alone (the admin asked to remove the app)", async () => {
    const { admin, tenantId } = await connectedTenant();
    const row = await tokenRow(tenantId);
    expect(await disconnect(pd.ctx, admin)).toEqual({ removed: true, revoke: "done" });
    expect(revokes()).toHaveLength(1);
    expect(await works(row!.accessToken)).toBe(false);
  });
});

describe("after the code exchange, a failure", () => {
  it("to save a same-user reconnect revokes nothing: that install is the live connection", async () => {
    const { tenantId, admin, who } = await connectedTenant();
    const flow = await startAuthorization(pd.ctx, admin);
    const state = new URL(flow.url).searchParams.get("state")!;
    const { code } = pd.mock.authorize(TEST_REDIRECT_URI, state, null, { who });
    const constraint = `reject_${tenantId.replace(/-/g, "")}`;
    await sql().query(
      `ALTER TABLE pipedrive_connections ADD CONSTRAINT ${constraint} CHECK (tenant_id <> '${z.uuid().parse(tenantId)}'::uuid OR connected_by_name = 'never') NOT VALID`,
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
    expect(revokes()).toHaveLength(0);
    expect(pd.mock.installs()).toContainEqual(expect.objectContaining(who));
  });

  it("to read the Pipedrive user revokes only the new access token, never the install", async () => {
    const { admin, tenantId } = await createTenant();
    pd.mock.setFaults({ api401: { times: 1 } });
    const result = await connectThroughMock(pd.ctx, pd.mock, admin);
    expect(result.outcome).toEqual({ result: "error", reason: "profile_failed" });
    expect(await tokenRow(tenantId)).toBeNull();
    expect(revokes()).toHaveLength(1);
    expect(pd.mock.installs()).toContainEqual(expect.objectContaining(result.who));
    expect(pd.mock.uninstalls()).toEqual([]);
  });
});

describe("a cancel on Pipedrive's consent page", () => {
  it.each(["user_denied", "access_denied"])("(%s) is a cancel, not a failure", async (error) => {
    const { admin, tenantId } = await createTenant();
    const flow = await startAuthorization(pd.ctx, admin);
    const state = new URL(flow.url).searchParams.get("state")!;
    const result = await completeCallback(pd.ctx, signedIn(admin), {
      query: { error, state },
      cookieState: flow.cookie.value,
    });
    expect(result.outcome).toEqual({ result: "denied" });
    expect(await tokenRow(tenantId)).toBeNull();
  });
});

describe("a grant without a permission we need", () => {
  it("connects in needs_permissions, lookups pause without a call, and a full reconnect heals it", async () => {
    const { admin, tenantId } = await createTenant();
    const who = freshIdentity();
    const result = await connectThroughMock(pd.ctx, pd.mock, admin, { who, scopes: ["base"] });
    expect(result.outcome).toEqual({ result: "needs_permissions" });
    expect(await connectionRow(tenantId)).toMatchObject({ status: "needs_permissions", scopes: ["base"] });
    pd.mock.reset();
    const failure = await searchPersonsByPhone(pd.ctx, tenantId, "+55 11 99999-0001").catch((e: unknown) => e);
    expect(isAppError(failure, "needs_permissions")).toBe(true);
    expect(pd.mock.requests().filter((r) => r.path.startsWith("/api/"))).toHaveLength(0);
    expect((await connectThroughMock(pd.ctx, pd.mock, admin, { who })).outcome).toEqual({ result: "reconnected" });
    expect(await connectionRow(tenantId)).toMatchObject({ status: "connected" });
    expect(await auditTrail(tenantId)).toEqual(["needs_permissions", "reconnected"]);
  });
});

describe.each([
  { status: 402, state: "subscription_lapsed", fault: "api402" },
  { status: 403, state: "access_forbidden", fault: "api403" },
] as const)("an API answer $status", ({ state, fault }) => {
  it(`puts the connection in ${state}; lookups stop calling until a later call succeeds, then it heals`, async () => {
    const { tenantId } = await connectedTenant();
    pd.mock.setFaults({ [fault]: { times: 1 } });
    const first = await searchPersonsByPhone(pd.ctx, tenantId, "+55 11 99999-0001").catch((e: unknown) => e);
    expect(isAppError(first, state)).toBe(true);
    expect(await connectionRow(tenantId)).toMatchObject({ status: state });
    const calls = pd.mock.requests().length;
    const second = await searchPersonsByPhone(pd.ctx, tenantId, "+55 11 99999-0001").catch((e: unknown) => e);
    expect(isAppError(second, state)).toBe(true);
    expect(pd.mock.requests()).toHaveLength(calls);
    // The keeper's hourly look: one call, and it works again.
    const { probeConnection } = await import("../tokens/access.ts");
    expect(await probeConnection(pd.ctx, tenantId)).toBe("connected");
    expect(await connectionRow(tenantId)).toMatchObject({ status: "connected" });
    expect((await searchPersonsByPhone(pd.ctx, tenantId, "+55 11 99999-0001")).map((p) => p.id)).toEqual([101]);
    expect(await auditTrail(tenantId)).toEqual(["connected", state, "recovered"]);
  });
});

describe("a 403 that only searches get (a limit for an entity, not a permission)", () => {
  const searchesMade = () => pd.mock.requests().filter((r) => r.path === "/api/v2/persons/search").length;
  const mailsOwed = async (tenantId: string) =>
    (
      await sql().query<{ event: string }>(
        `SELECT event FROM pipedrive_notifications WHERE tenant_id = $1::uuid AND outcome IS DISTINCT FROM 'repeat' ORDER BY id`,
        [tenantId],
      )
    ).rows.map((r) => r.event);

  it("is judged by a search: users/me working does not heal it, and the admins are mailed once", async () => {
    const { tenantId } = await connectedTenant();
    const { probeConnection } = await import("../tokens/access.ts");
    pd.mock.setFaults({ api403: { only: "search" } });
    const first = await searchPersonsByPhone(pd.ctx, tenantId, "+55 11 99999-0001").catch((e: unknown) => e);
    expect(isAppError(first, "access_forbidden")).toBe(true);
    // The hourly look, three times: each asks with a search, which still gets the 403.
    for (let hour = 0; hour < 3; hour++) {
      const before = searchesMade();
      expect(await probeConnection(pd.ctx, tenantId)).toBe("access_forbidden");
      expect(searchesMade()).toBe(before + 1);
      expect(await connectionRow(tenantId)).toMatchObject({ status: "access_forbidden" });
    }
    expect(await mailsOwed(tenantId)).toEqual(["access_forbidden"]);
    pd.mock.setFaults({});
    expect(await probeConnection(pd.ctx, tenantId)).toBe("connected");
    expect((await searchPersonsByPhone(pd.ctx, tenantId, "+55 11 99999-0001")).map((p) => p.id)).toEqual([101]);
    expect(await auditTrail(tenantId)).toEqual(["connected", "access_forbidden", "recovered"]);
  });

  it("flapping within a day is one incident: one mail for the pause, and none for its repeats", async () => {
    const { tenantId } = await connectedTenant();
    const { probeConnection } = await import("../tokens/access.ts");
    for (let flap = 0; flap < 3; flap++) {
      pd.mock.setFaults({ api403: { times: 1, only: "search" } });
      await searchPersonsByPhone(pd.ctx, tenantId, "+55 11 99999-0001").catch(() => {});
      expect(await probeConnection(pd.ctx, tenantId)).toBe("connected");
    }
    expect(await auditTrail(tenantId)).toEqual([
      "connected",
      ...Array.from({ length: 3 }, () => ["access_forbidden", "recovered"]).flat(),
    ]);
    expect(await mailsOwed(tenantId)).toEqual(["access_forbidden", "recovered"]);
  });
});
