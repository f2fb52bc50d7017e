import { describe, expect, inject, it } from "vitest";

import {
  auditTrail,
  connectedTenant,
  connectionRow,
  expireAccessToken,
  foreignRefresherForFile,
  mockPipedriveForFile,
  testContext,
  tokenRequests,
  waitUntil,
} from "../../../testing/support/vitest-harness.ts";
import { sql } from "../../db.ts";
import { isAppError, type AppError } from "../../errors.ts";
import { sleep } from "../client/http.ts";
import { getValidAccessToken, renewForKeeper } from "./access.ts";
import { onRefreshOutcome, type RefreshOutcome } from "./hooks.ts";

// A refused refresh token is a verdict only once it is still the row's after a grace period:
// the lead-enrichment service's rotation may land seconds after ours was refused. Callers get
// their error at once; the state admins see (page, status view, metrics, mail) waits for the
// keeper to confirm it.

const pd = mockPipedriveForFile();
const foreign = foreignRefresherForFile(pd, () => inject("databaseUrl"));

const GRACE_MS = 60_000;
/** A context whose clock the test moves: the keeper's confirmation is "after the grace". */
function clocked(verdictGraceMs = GRACE_MS) {
  let offset = 0;
  const ctx = testContext(pd.mock, { sleep, verdictGraceMs, now: () => new Date(Date.now() + offset) });
  return { ctx, advance: (ms: number) => void (offset += ms) };
}

const viewStatus = async (tenantId: string) =>
  (
    await sql().query<{ status: string }>(`SELECT status FROM lead_pipedrive_integration_status WHERE tenant_id = $1`, [
      tenantId,
    ])
  ).rows[0]?.status;

function outcomesFor(tenantId: string) {
  const seen: RefreshOutcome[] = [];
  const stop = onRefreshOutcome((outcome) => void (outcome.tenantId === tenantId && seen.push(outcome)));
  return { seen, stop };
}

/** Our refresh is refused because the foreign one rotated first, and theirs lands `lateMs` after. */
async function foreignRotationLandingLate(tenantId: string, lateMs: number, ctx: ReturnType<typeof clocked>["ctx"]) {
  await expireAccessToken(tenantId);
  pd.mock.configure({ refreshRotation: true });
  pd.mock.setFaults({ tokenReplyDelayMs: { body: lateMs } });
  const theirs = foreign.getToken(tenantId);
  await waitUntil(
    () => tokenRequests(pd.mock, "refresh_token").some((r) => r.clientAuth === "body"),
    "the foreign refresh to reach Pipedrive",
  );
  const ours = await getValidAccessToken(ctx, tenantId).then(
    () => null,
    (error: unknown) => error,
  );
  return { ours, theirs };
}

describe("a foreign rotation landing 5 s after ours was refused", () => {
  it("fails the caller at once, and never shows admins needs_reconnect", async () => {
    const t = await connectedTenant(pd);
    const { ctx, advance } = clocked();
    const outcomes = outcomesFor(t.tenantId);
    try {
      const { ours, theirs } = await foreignRotationLandingLate(t.tenantId, 5_000, ctx);
      // A temporary, retryable error in plain words: not the verdict it may never become.
      expect(isAppError(ours, "renewal_checking")).toBe(true);
      expect((ours as AppError).userMessage).toMatch(/checking.*try again in a minute/i);
      expect((ours as AppError).retryAt!.getTime()).toBeGreaterThan(Date.now());
      // Suspected, not judged: no needs_reconnect anywhere; the view says what callers are told.
      expect((await connectionRow(t.tenantId))?.status).toBe("connected");
      expect(await viewStatus(t.tenantId)).toBe("checking_access");
      expect(await theirs).toMatchObject({ refreshed: true, error: null });
      // The keeper's look after the grace finds the row moved on: a false alarm nobody heard.
      advance(GRACE_MS + 1_000);
      await renewForKeeper(ctx, t.tenantId);
      expect((await connectionRow(t.tenantId))?.status).toBe("connected");
      expect(await viewStatus(t.tenantId)).toBe("connected");
      expect(await auditTrail(t.tenantId)).not.toContain("refresh_failed");
      expect(outcomes.seen.filter((o) => o.result === "needs_reconnect")).toHaveLength(0);
      // No mail owed to anyone.
      const owed = await sql().query(`SELECT 1 FROM pipedrive_notifications WHERE tenant_id = $1`, [t.tenantId]);
      expect(owed.rows).toHaveLength(0);
      // And callers are served with the foreign writer's token again.
      expect((await getValidAccessToken(ctx, t.tenantId)).accessToken).toBeTruthy();
    } finally {
      outcomes.stop();
    }
  }, 60_000);

  it("is a false alarm when judged at once (no grace): why the grace exists", async () => {
    const t = await connectedTenant(pd);
    const { ctx } = clocked(0);
    const { theirs } = await foreignRotationLandingLate(t.tenantId, 5_000, ctx);
    expect((await connectionRow(t.tenantId))?.status).toBe("needs_reconnect");
    await theirs;
  }, 60_000);
});

describe("a grant that is really gone", () => {
  it("is confirmed by the keeper after the grace, once", async () => {
    const t = await connectedTenant(pd);
    const { ctx, advance } = clocked();
    const outcomes = outcomesFor(t.tenantId);
    try {
      await expireAccessToken(t.tenantId);
      pd.mock.setFaults({ token: { mode: "invalid_grant", grant: "refresh_token" } });
      await expect(getValidAccessToken(ctx, t.tenantId)).rejects.toMatchObject({ code: "renewal_checking" });
      const refusals = tokenRequests(pd.mock, "refresh_token").length;
      // Within the grace: callers fail at once, nothing is resent, the keeper does not judge yet.
      await expect(getValidAccessToken(ctx, t.tenantId)).rejects.toMatchObject({ code: "renewal_checking" });
      await expect(renewForKeeper(ctx, t.tenantId)).rejects.toMatchObject({ code: "renewal_checking" });
      expect(tokenRequests(pd.mock, "refresh_token")).toHaveLength(refusals);
      expect((await connectionRow(t.tenantId))?.status).toBe("connected");
      // After it: confirmed, told once.
      advance(GRACE_MS + 1_000);
      await expect(renewForKeeper(ctx, t.tenantId)).rejects.toMatchObject({ code: "needs_reconnect" });
      await expect(renewForKeeper(ctx, t.tenantId)).rejects.toMatchObject({ code: "needs_reconnect" });
      expect((await connectionRow(t.tenantId))?.status).toBe("needs_reconnect");
      expect(await viewStatus(t.tenantId)).toBe("needs_reconnect");
      expect(outcomes.seen.filter((o) => o.result === "needs_reconnect")).toHaveLength(1);
      expect(tokenRequests(pd.mock, "refresh_token")).toHaveLength(refusals);
    } finally {
      outcomes.stop();
    }
  }, 60_000);
});
