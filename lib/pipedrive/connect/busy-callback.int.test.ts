import type pg from "pg";
import { describe, expect, it } from "vitest";

import { ownDatabaseForFile } from "../../../testing/support/scratch-databases.ts";
import {
  connectThroughMock,
  createTenant,
  mockPipedriveForFile,
  signedIn,
  TEST_REDIRECT_URI,
  testContext,
  tokenRequests,
  waitUntil,
} from "../../../testing/support/vitest-harness.ts";
import { sql } from "../../db.ts";
import { isAppError } from "../../errors.ts";
import { startAuthorization } from "./authorize.ts";
import { completeCallback } from "./callback.ts";

// Once Pipedrive has exchanged a callback's code, the grant is live and the code spent: a pool
// that is busy at that moment (every connection taken, each query's wait 300 ms here) must not
// lose it. The save has connections of its own (db.ts, the grant pool), and nothing is revoked.

await ownDatabaseForFile("crm_busy_callback", { DB_POOL_WAIT_MS: "300" });
const pd = mockPipedriveForFile();

describe("a callback whose code was exchanged while the pool is busy", () => {
  it(
    "saves through connections of its own while requests keep every other one longer than any retry waits",
    { timeout: 60_000 },
    async () => {
      const { admin, tenantId } = await createTenant();
      let held: pg.PoolClient[] = [];
      const ctx = testContext(pd.mock, {
        fetch: async (input, init) => {
          const answer = await fetch(input, init);
          if (String(input).endsWith("/oauth/token") && String(init?.body).includes("authorization_code"))
            held = await Promise.all(Array.from({ length: sql().options.max ?? 10 }, () => sql().connect()));
          return answer;
        },
      });
      try {
        const result = await connectThroughMock(ctx, pd.mock, admin);
        expect(held.length).toBeGreaterThan(0);
        expect(result.outcome).toEqual({ result: "connected" });
      } finally {
        held.forEach((client) => client.release());
      }
      const { rows } = await sql().query(`SELECT 1 FROM lead_pipedrive_integrations WHERE tenant_id = $1`, [tenantId]);
      expect(rows).toHaveLength(1);
      expect(pd.mock.requests().filter((r) => r.path === "/oauth/revoke")).toEqual([]);
      expect(tokenRequests(pd.mock, "authorization_code")).toHaveLength(1);
    },
  );

  it(
    "are taken on a few at once; one more waits its turn, and past its wait is told busy with nothing used",
    { timeout: 60_000 },
    async () => {
      const [first, second] = [await createTenant(), await createTenant()];
      const ctx = testContext(pd.mock, { callbacksAtOnce: 1, callbackWaitMs: 500 });
      pd.mock.setFaults({ holdTokenRequests: true });
      const firstDone = connectThroughMock(ctx, pd.mock, first.admin);
      await waitUntil(() => pd.mock.heldTokenRequests() === 1, "the first exchange to reach Pipedrive");
      const started = await startAuthorization(ctx, second.admin);
      const consent = new URL(started.url).searchParams;
      const state = consent.get("state") ?? "";
      const { code } = pd.mock.authorize(TEST_REDIRECT_URI, state, consent.get("code_challenge"), {});
      const callback = () =>
        completeCallback(ctx, signedIn(second.admin), { query: { code, state }, cookieState: started.cookie.value });

      const refused = await callback().catch((error: unknown) => error);
      expect(isAppError(refused, "busy")).toBe(true);
      expect(pd.mock.heldTokenRequests()).toBe(1);
      // A callback whose state we never signed takes no slot: it is refused at once, never told busy.
      const forged = await completeCallback(ctx, signedIn(second.admin), {
        query: { code: "x", state: "forged.state" },
        cookieState: "forged.state",
      });
      expect(forged.outcome).toEqual({ result: "error", reason: "state_invalid" });
      // The same URL again, as the busy page's "Try again" sends it: it waits its turn, and connects.
      const again = callback();
      pd.mock.setFaults({});
      pd.mock.releaseTokenRequests();
      expect((await firstDone).outcome).toEqual({ result: "connected" });
      expect((await again).outcome).toEqual({ result: "connected" });
      expect(tokenRequests(pd.mock, "authorization_code")).toHaveLength(2);
    },
  );
});
