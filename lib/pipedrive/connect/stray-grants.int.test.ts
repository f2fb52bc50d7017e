import { describe, expect, it } from "vitest";

import { freshIdentity } from "../../../testing/mock-pipedrive/index.ts";
import {
  connectThroughMock,
  createTenant,
  mockPipedriveForFile,
  tokenRow,
} from "../../../testing/support/vitest-harness.ts";

// A token answer we refuse (a bad api_domain, a string expires_in) may still carry a live grant.
// It is given back to Pipedrive, but only when it is ours alone: revoking a refresh token
// uninstalls the app for its Pipedrive user, which would cut off a workspace holding that install.

const pd = mockPipedriveForFile();
const revokes = () => pd.mock.requests().filter((r) => r.path === "/oauth/revoke");

describe("a refused token answer's live grant", () => {
  for (const mode of ["bad_api_domain", "string_expires_in"] as const) {
    it(`is revoked when it belongs to no install we hold (${mode})`, async () => {
      const { tenantId, admin } = await createTenant();
      pd.mock.reset();
      pd.mock.setFaults({ token: { mode } });
      const result = await connectThroughMock(pd.ctx, pd.mock, admin);
      expect(result.outcome).toEqual({ result: "error", reason: "exchange_failed" });
      expect(revokes()).toHaveLength(1);
      expect(await tokenRow(tenantId)).toBeNull();
    });

    it(`uninstalls a first install nobody holds (${mode}, live grant)`, async () => {
      const { admin } = await createTenant();
      const who = freshIdentity();
      pd.mock.setFaults({ token: { mode, live: true } });
      const result = await connectThroughMock(pd.ctx, pd.mock, admin, { who });
      expect(result.outcome).toEqual({ result: "error", reason: "exchange_failed" });
      expect(pd.mock.installs().filter((i) => i.companyId === who.companyId && i.userId === who.userId)).toEqual([]);
    });
  }

  it("is kept when another workspace holds that install", async () => {
    const holder = await createTenant();
    const who = freshIdentity();
    const held = await connectThroughMock(pd.ctx, pd.mock, holder.admin, { who });
    expect(held.outcome).toEqual({ result: "connected" });
    const { admin } = await createTenant();
    pd.mock.reset();
    pd.mock.setFaults({ token: { mode: "string_expires_in", live: true } });
    const result = await connectThroughMock(pd.ctx, pd.mock, admin, { who });
    expect(result.outcome).toEqual({ result: "error", reason: "exchange_failed" });
    expect(revokes().filter((r) => r.status === 200)).toHaveLength(0);
    expect(pd.mock.installs().some((i) => i.companyId === who.companyId && i.userId === who.userId)).toBe(true);
  });

  it("is kept when its refresh token is one a workspace holds, even where we cannot ask whose it is", async () => {
    const holder = await createTenant();
    const who = freshIdentity();
    await connectThroughMock(pd.ctx, pd.mock, holder.admin, { who });
    const stored = (await tokenRow(holder.tenantId))!.refreshToken;
    pd.mock.reset();
    pd.mock.setFaults({ token: { mode: "bad_api_domain", live: true } });
    await connectThroughMock(pd.ctx, pd.mock, holder.admin, { who });
    // Re-granting the same install: Pipedrive answers with the grant the workspace holds (friendly)
    // or replaces it (strict); only a grant no workspace holds may go.
    const sameGrant = pd.mock.behaviour().reinstall === "same-grant";
    expect(revokes()).toHaveLength(sameGrant ? 0 : 1);
    if (sameGrant) expect((await tokenRow(holder.tenantId))!.refreshToken).toBe(stored);
  });
});
