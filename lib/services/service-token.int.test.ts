import { describe, expect, it } from "vitest";

import {
  connectedTenant,
  mockPipedriveForFile,
  testContext,
  tokenRequests,
} from "../../testing/support/vitest-harness.ts";
import { tokenForService } from "./pipedrive-token.ts";

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
});
