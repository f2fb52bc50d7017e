import type pg from "pg";
import { describe, expect, it } from "vitest";

import { ownDatabaseForFile } from "../../../testing/support/scratch-databases.ts";
import {
  connectThroughMock,
  createTenant,
  mockPipedriveForFile,
  testContext,
  tokenRequests,
} from "../../../testing/support/vitest-harness.ts";
import { sql } from "../../db.ts";

// Once Pipedrive has exchanged a callback's code, the grant is live and the code spent: a pool
// that is busy at that moment (every connection taken, each query's wait 300 ms here) must not
// lose it. The save waits the busy database out, and nothing is revoked.

await ownDatabaseForFile("crm_busy_callback", { DB_POOL_WAIT_MS: "300" });
const pd = mockPipedriveForFile();

describe("a callback whose code was exchanged while the pool is busy", () => {
  it("saves the connection once connections free up, and revokes nothing", { timeout: 30_000 }, async () => {
    const { admin, tenantId } = await createTenant();
    let held: pg.PoolClient[] = [];
    // Right as the code's exchange answers, every connection is taken, for 2 s.
    const ctx = testContext(pd.mock, {
      fetch: async (input, init) => {
        const answer = await fetch(input, init);
        if (String(input).endsWith("/oauth/token") && String(init?.body).includes("authorization_code")) {
          held = await Promise.all(Array.from({ length: sql().options.max ?? 10 }, () => sql().connect()));
          setTimeout(() => held.forEach((client) => client.release()), 2_000);
        }
        return answer;
      },
    });
    const result = await connectThroughMock(ctx, pd.mock, admin);
    expect(held.length).toBeGreaterThan(0);
    expect(result.outcome).toEqual({ result: "connected" });
    const { rows } = await sql().query(`SELECT 1 FROM lead_pipedrive_integrations WHERE tenant_id = $1`, [tenantId]);
    expect(rows).toHaveLength(1);
    expect(pd.mock.requests().filter((r) => r.path === "/oauth/revoke")).toEqual([]);
    expect(tokenRequests(pd.mock, "authorization_code")).toHaveLength(1);
  });
});
