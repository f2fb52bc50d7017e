import { describe, expect, it } from "vitest";

import { freshIdentity, type Identity } from "../../../testing/mock-pipedrive/index.ts";
import {
  auditTrail,
  connectedTenant,
  createTenant,
  mockPipedriveForFile,
  TEST_REDIRECT_URI,
  testContext,
  tokenRequests,
  tokenRow,
} from "../../../testing/support/vitest-harness.ts";
import { db } from "../../db.ts";
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

let addresses = 0;
/** A fresh client address per hold, so the per-address limits stay out of tests about other things. */
const anyAddress = () => `192.0.2.${++addresses % 250}:${addresses}`;

/** Holds a code as the callback does; the cookie it set. */
async function hold(code: string, address = anyAddress()) {
  const held = await holdMarketplaceCode(pd.ctx, { code }, address);
  if (!("held" in held)) throw new Error(`not held: ${held.refused}`);
  return held.held;
}

describe("a callback with a code and no state", () => {
  it("is recognised; anything with a state or an error is not", () => {
    expect(stateless({ code: "c0de.1234-abcd_EF~" })).toEqual({ code: "c0de.1234-abcd_EF~" });
    expect(stateless({ code: "c0de1234", state: "s" })).toBeNull();
    expect(stateless({ code: "c0de1234", error: "user_denied" })).toBeNull();
  });

  it("with a code outside Pipedrive's alphabet or length is malformed, and never stored", async () => {
    for (const code of ["x".repeat(513), "short", "<script>alert(1)</script>", "has space", "nul\u0000byte1"]) {
      expect(stateless({ code })).toBe("malformed");
      expect(await holdMarketplaceCode(pd.ctx, "malformed", anyAddress())).toEqual({ refused: "install_expired" });
    }
  });

  it("is limited per client address: at most 10 held at once, 20 per 10 minutes", async () => {
    const address = anyAddress();
    const results = [];
    for (let i = 0; i < 25; i++) results.push(await holdMarketplaceCode(pd.ctx, { code: `flood-code-${i}` }, address));
    expect(results.filter((r) => "held" in r)).toHaveLength(10);
    expect(results.slice(10)).toEqual(Array(15).fill({ refused: "install_busy" }));
    const rows = await db().pipedrivePendingInstall.count({ where: { clientAddress: address } });
    expect(rows).toBe(10);
    // Another address is not held back by this one.
    expect(await holdMarketplaceCode(pd.ctx, { code: "other-address-code" }, anyAddress())).toHaveProperty("held");
  });

  it("holds no more than the cap when callbacks from one address arrive at once", async () => {
    const address = anyAddress();
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) => holdMarketplaceCode(pd.ctx, { code: `parallel-code-${i}` }, address)),
    );
    expect(results.filter((r) => "held" in r)).toHaveLength(10);
    expect(await db().pipedrivePendingInstall.count({ where: { clientAddress: address } })).toBe(10);
  });

  it("is held server-side behind an httpOnly cookie, unexchanged, for at most 10 minutes", async () => {
    const { code } = marketplaceCode();
    const cookie = await hold(code);
    expect(cookie.options).toMatchObject({ httpOnly: true, sameSite: "lax", path: "/", maxAge: 600 });
    expect(cookie.value).not.toContain(code);
    expect(tokenRequests(pd.mock)).toHaveLength(0);
  });
});

describe("for a signed-in admin", () => {
  it("exchanges the code, shows whose account it is, writes nothing until Connect, then connects once", async () => {
    const { admin, tenantId } = await createTenant();
    const { who, code } = marketplaceCode();
    const cookie = (await hold(code)).value;
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
    const cookie = (await hold(code)).value;
    await resumeInstall(pd.ctx, admin, cookie);
    expect((await cancelInstall(pd.ctx, admin, cookie)).outcome).toEqual({ result: "install_cancelled" });
    expect(await tokenRow(tenantId)).toBeNull();
    expect(revokes()).toHaveLength(1);
    expect(pd.mock.uninstalls()).toMatchObject([who]);
  });

  it("on Cancel of an install another workspace holds, revokes nothing", async () => {
    const holder = await connectedTenant(pd);
    const { admin } = await createTenant();
    const cookie = (await hold(marketplaceCode(holder.who).code)).value;
    await resumeInstall(pd.ctx, admin, cookie);
    await cancelInstall(pd.ctx, admin, cookie);
    expect(revokes()).toHaveLength(0);
  });

  it("someone else's cookie, or another admin, cannot see or confirm it", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const cookie = (await hold(marketplaceCode().code)).value;
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
    const first = (await hold(code)).value;
    await resumeInstall(pd.ctx, admin, first);
    await confirmInstall(pd.ctx, admin, first);
    const other = await createTenant();
    const replay = (await hold(code)).value;
    expect(await resumeInstall(pd.ctx, other.admin, replay)).toBe("expired");
    expect(await tokenRow(other.tenantId)).toBeNull();
    expect(await tokenRow(tenantId)).not.toBeNull();
  });

  it("a code older than 5 minutes is not sent to Pipedrive", async () => {
    const { admin } = await createTenant();
    const cookie = (await hold(marketplaceCode().code)).value;
    const later = testContext(pd.mock, { now: () => new Date(Date.now() + 6 * 60_000) });
    expect(await resumeInstall(later, admin, cookie)).toBe("expired");
    expect(tokenRequests(pd.mock)).toHaveLength(0);
  });
});

describe("for a member", () => {
  it("is not exchanged: an admin must install it", async () => {
    const { member } = await createTenant();
    const cookie = (await hold(marketplaceCode().code)).value;
    expect(await resumeInstall(pd.ctx, member, cookie)).toBe("admins_only");
    expect(tokenRequests(pd.mock)).toHaveLength(0);
  });
});

describe("abandoned installs", () => {
  it("are purged by the keeper after 10 minutes, their grants given back unless a workspace holds the install", async () => {
    const { admin } = await createTenant();
    const { who, code } = marketplaceCode();
    const cookie = (await hold(code)).value;
    await resumeInstall(pd.ctx, admin, cookie);
    const later = testContext(pd.mock, { now: () => new Date(Date.now() + 11 * 60_000) });
    expect(await purgeAbandonedInstalls(later)).toBeGreaterThanOrEqual(1);
    expect(await pendingInstallFor(pd.ctx, admin, cookie)).toBeNull();
    expect(pd.mock.uninstalls()).toContainEqual(expect.objectContaining(who));
  });

  it("are purged a batch at a time: a flood of them is never loaded at once, and all of it goes", async () => {
    const now = new Date();
    await db()
      .$executeRaw`INSERT INTO pipedrive_pending_installs (browser_hash, code, code_expires_at, expires_at, client_address)
      SELECT md5('flood' || i) || md5('pad' || i), 'flood-code', ${now}, ${now}, '198.51.100.1'
      FROM generate_series(1, 450) AS i`;
    const batches: number[] = [];
    const later = testContext(pd.mock, { now: () => new Date(now.getTime() + 60_000) });
    const { purgeExpiredPending } = await import("./pending-install-store.ts");
    for (let batch = await purgeExpiredPending(later.now()); ; batch = await purgeExpiredPending(later.now())) {
      batches.push(batch.removed);
      if (batch.removed === 0) break;
    }
    expect(Math.max(...batches)).toBeLessThanOrEqual(200);
    expect(batches.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(450);
    expect(await db().pipedrivePendingInstall.count({ where: { code: "flood-code" } })).toBe(0);
  });
});
