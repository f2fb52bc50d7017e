import { describe, expect, it } from "vitest";

import {
  connectedTenant,
  expireAccessToken,
  mockPipedriveForFile,
  testContext,
  tokenRequests,
} from "../../testing/support/vitest-harness.ts";
import { sql } from "../db.ts";
import { toAppError } from "../errors.ts";
import { blockCompany, liftCompanyPause } from "../pipedrive/client/company-limit-store.ts";
import { markApiRefused } from "../pipedrive/connection/connection-store.ts";
import { tokenForService } from "./pipedrive-token.ts";
import { refusal } from "./service-call.ts";

// A service shaped like the lead-enrichment one refreshes itself when a token has under five
// minutes left (its own rule, as measured). Taking its tokens from the token endpoint, it must
// never meet such a token, whatever our own just-in-time skew is set to.

const pd = mockPipedriveForFile();
const PEER_THRESHOLD_MS = 5 * 60_000;

describe("the token endpoint's tokens", () => {
  it("never leave a peer-shaped service a reason to refresh, over two hours of 10-minute tokens", async () => {
    const t = await connectedTenant(pd);
    pd.mock.setTokenLifetime(600);
    let clock = Date.now();
    // An operator's short skew (one minute) must not reach services: they have their own rule.
    const ctx = testContext(pd.mock, { now: () => new Date(clock), skewSeconds: 60 });
    const before = tokenRequests(pd.mock, "refresh_token").length;
    let peerRefreshes = 0;
    let calls = 0;
    for (const end = clock + 2 * 3_600_000; clock < end; clock += 20_000) {
      const answer = await tokenForService(ctx, t.tenantId);
      expect(answer.status).toBe(200);
      const { expires_at } = answer.body as { expires_at: string };
      calls++;
      if (new Date(expires_at).getTime() < clock + PEER_THRESHOLD_MS) peerRefreshes++;
    }
    expect(calls).toBe(360);
    expect(peerRefreshes).toBe(0);
    // Ours renewed as the tokens ran out, a few times an hour, never per call.
    const ours = tokenRequests(pd.mock, "refresh_token").length - before;
    expect(ours).toBeGreaterThanOrEqual((2 * 60) / 10);
    expect(ours).toBeLessThanOrEqual((2 * 60) / 4);
  });

  it("answer every condition as documented: 409 for a person to fix, 503 with Retry-After to wait, 404 and 400", async () => {
    const answer = (ctx: ReturnType<typeof testContext>, tenantId: string) =>
      tokenForService(ctx, tenantId).catch((error: unknown) => refusal(toAppError(error), new Date()));
    const expectAnswer = async (
      tenantId: string,
      status: number,
      code: string,
      ctx: ReturnType<typeof testContext> = pd.ctx,
    ) => {
      const got = await answer(ctx, tenantId);
      const body = got.body as { error: { code: string; message: string; retry_at?: string } };
      expect([got.status, body.error.code], code).toEqual([status, code]);
      expect(body.error.message.length, code).toBeGreaterThan(10);
      expect(JSON.stringify(got), code).not.toMatch(/access_token|refresh_token/);
      if (status === 503) {
        expect(Number(got.headers?.["Retry-After"]), code).toBeGreaterThanOrEqual(1);
        expect(Date.parse(body.error.retry_at!), code).toBeGreaterThan(Date.now());
      } else expect(got.headers?.["Retry-After"], code).toBeUndefined();
    };

    await expectAnswer("not-a-uuid", 400, "invalid_input");
    await expectAnswer("00000000-0000-4000-8000-000000000000", 404, "not_connected");
    for (const status of ["needs_permissions", "subscription_lapsed", "access_forbidden"] as const) {
      const t = await connectedTenant(pd);
      if (status === "needs_permissions")
        await sql().query(`UPDATE pipedrive_connections SET status = 'needs_permissions' WHERE tenant_id = $1`, [
          t.tenantId,
        ]);
      else await markApiRefused(t.tenantId, status, { detail: "HTTP 40x", call: "persons/search" }, new Date());
      await expectAnswer(t.tenantId, 409, status);
    }
    const paused = await connectedTenant(pd);
    await blockCompany(new URL(pd.mock.url).host, new Date(Date.now() + 30 * 60_000), "test");
    try {
      await expectAnswer(paused.tenantId, 503, "rate_limited");
    } finally {
      await liftCompanyPause(new URL(pd.mock.url).host);
    }
    const checking = await connectedTenant(pd);
    await expireAccessToken(checking.tenantId);
    pd.mock.setFaults({ token: { mode: "invalid_grant", grant: "refresh_token" } });
    try {
      const patient = testContext(pd.mock, { verdictGraceMs: 60_000 });
      await expectAnswer(checking.tenantId, 503, "renewal_checking", patient);
      await expectAnswer(checking.tenantId, 409, "needs_reconnect", testContext(pd.mock, { verdictGraceMs: 0 }));
    } finally {
      pd.mock.setFaults({});
    }
  });
});
