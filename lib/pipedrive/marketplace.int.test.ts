import { describe, expect, it } from "vitest";

import { freshIdentity, type Identity } from "../../testing/mock-pipedrive/index.ts";
import {
  auditTrail,
  connectedTenant,
  createTenant,
  mockPipedriveForFile,
  TEST_REDIRECT_URI,
  testContext,
  tokenRequests,
  tokenRow,
} from "../../testing/support/fixtures.ts";
import { db } from "../db.ts";
import {
  cancelInstall,
  confirmInstall,
  holdMarketplaceCode,
  pendingInstallFor,
  purgeAbandonedInstalls,
  resumeInstall,
  stateless,
} from "./marketplace.ts";

// Installs started on Pipedrive's Marketplace: a code and no state. Held, then exchanged for the
// signed-in admin, then linked only on the confirming click.

const pd = mockPipedriveForFile();

/** What Pipedrive's redirect after "Install from Marketplace" carries: a code, no state. */
function marketplaceCode(who: Identity = freshIdentity()) {
  return { who, code: pd.mock.authorize(TEST_REDIRECT_URI, "unused", null, { who }).code };
}
const revokes = () => pd.mock.requests().filter((r) => r.path === "/oauth/revoke");

describe("a callback with a code and no state", () => {
  it("is recognised; anything with a state or an error is not", () => {
    expect(stateless({ code: "c" })).toBe("c");
    expect(stateless({ code: "c", state: "s" })).toBeNull();
    expect(stateless({ code: "c", error: "user_denied" })).toBeNull();
    expect(stateless({ code: "x".repeat(2000) })).toBeNull();
  });

  it("is held server-side behind an httpOnly cookie, unexchanged, for at most 10 minutes", async () => {
    const { code } = marketplaceCode();
    const cookie = await holdMarketplaceCode(pd.ctx, code);
    expect(cookie.options).toMatchObject({ httpOnly: true, sameSite: "lax", path: "/", maxAge: 600 });
    expect(cookie.value).not.toContain(code);
    expect(tokenRequests(pd.mock)).toHaveLength(0);
  });
});

describe("for a signed-in admin", () => {
  it("exchanges the code, shows whose account it is, writes nothing until Connect, then connects once", async () => {
    const { admin, tenantId } = await createTenant();
    const { who, code } = marketplaceCode();
    const cookie = (await holdMarketplaceCode(pd.ctx, code)).value;
    expect(await resumeInstall(pd.ctx, admin, cookie)).toBe("confirm");
    expect(tokenRequests(pd.mock, "authorization_code")).toHaveLength(1);
    expect(await pendingInstallFor(pd.ctx, admin, cookie)).toMatchObject({ id: who.userId, company_id: who.companyId });
    expect(await tokenRow(tenantId)).toBeNull();
    // Resuming again (a reload) exchanges nothing more.
    expect(await resumeInstall(pd.ctx, admin, cookie)).toBe("confirm");
    expect(tokenRequests(pd.mock, "authorization_code")).toHaveLength(1);

    expect((await confirmInstall(pd.ctx, admin, cookie)).outcome).toEqual({ result: "connected" });
    expect(await tokenRow(tenantId)).not.toBeNull();
    expect(await auditTrail(tenantId)).toEqual(["connected"]);
    expect((await confirmInstall(pd.ctx, admin, cookie)).outcome).toEqual({
      result: "error",
      reason: "install_expired",
    });
    expect(await db().pipedrivePendingInstall.count({ where: { tenantId } })).toBe(0);
  });

  it("on Cancel writes nothing and gives the grant back, which was ours alone", async () => {
    const { admin, tenantId } = await createTenant();
    const { who, code } = marketplaceCode();
    const cookie = (await holdMarketplaceCode(pd.ctx, code)).value;
    await resumeInstall(pd.ctx, admin, cookie);
    expect((await cancelInstall(pd.ctx, admin, cookie)).outcome).toEqual({ result: "install_cancelled" });
    expect(await tokenRow(tenantId)).toBeNull();
    expect(revokes()).toHaveLength(1);
    expect(pd.mock.uninstalls()).toMatchObject([who]);
  });

  it("on Cancel of an install another workspace holds, revokes nothing", async () => {
    const holder = await connectedTenant(pd);
    const { admin } = await createTenant();
    const cookie = (await holdMarketplaceCode(pd.ctx, marketplaceCode(holder.who).code)).value;
    await resumeInstall(pd.ctx, admin, cookie);
    await cancelInstall(pd.ctx, admin, cookie);
    expect(revokes()).toHaveLength(0);
  });

  it("someone else's cookie, or another admin, cannot see or confirm it", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const cookie = (await holdMarketplaceCode(pd.ctx, marketplaceCode().code)).value;
    await resumeInstall(pd.ctx, a.admin, cookie);
    expect(await pendingInstallFor(pd.ctx, b.admin, cookie)).toBeNull();
    expect(await resumeInstall(pd.ctx, b.admin, cookie)).toBe("expired");
    expect((await confirmInstall(pd.ctx, b.admin, cookie)).outcome).toMatchObject({ reason: "install_expired" });
    expect(await tokenRow(b.tenantId)).toBeNull();
    expect(await pendingInstallFor(pd.ctx, a.admin, "not-the-cookie")).toBeNull();
  });

  it("a replayed code ends as expired, with a clear outcome, and nothing written", async () => {
    const { admin, tenantId } = await createTenant();
    const { code } = marketplaceCode();
    const first = (await holdMarketplaceCode(pd.ctx, code)).value;
    await resumeInstall(pd.ctx, admin, first);
    await confirmInstall(pd.ctx, admin, first);
    const other = await createTenant();
    const replay = (await holdMarketplaceCode(pd.ctx, code)).value;
    expect(await resumeInstall(pd.ctx, other.admin, replay)).toBe("expired");
    expect(await tokenRow(other.tenantId)).toBeNull();
    expect(await tokenRow(tenantId)).not.toBeNull();
  });

  it("a code older than 5 minutes is not sent to Pipedrive", async () => {
    const { admin } = await createTenant();
    const cookie = (await holdMarketplaceCode(pd.ctx, marketplaceCode().code)).value;
    const later = testContext(pd.mock, { now: () => new Date(Date.now() + 6 * 60_000) });
    expect(await resumeInstall(later, admin, cookie)).toBe("expired");
    expect(tokenRequests(pd.mock)).toHaveLength(0);
  });
});

describe("for a member", () => {
  it("is not exchanged: an admin must install it", async () => {
    const { member } = await createTenant();
    const cookie = (await holdMarketplaceCode(pd.ctx, marketplaceCode().code)).value;
    expect(await resumeInstall(pd.ctx, member, cookie)).toBe("admins_only");
    expect(tokenRequests(pd.mock)).toHaveLength(0);
  });
});

describe("abandoned installs", () => {
  it("are purged by the keeper after 10 minutes, their grants given back unless a workspace holds the install", async () => {
    const { admin } = await createTenant();
    const { who, code } = marketplaceCode();
    const cookie = (await holdMarketplaceCode(pd.ctx, code)).value;
    await resumeInstall(pd.ctx, admin, cookie);
    const later = testContext(pd.mock, { now: () => new Date(Date.now() + 11 * 60_000) });
    expect(await purgeAbandonedInstalls(later)).toBeGreaterThanOrEqual(1);
    expect(await pendingInstallFor(pd.ctx, admin, cookie)).toBeNull();
    expect(pd.mock.uninstalls()).toContainEqual(expect.objectContaining(who));
  });
});
