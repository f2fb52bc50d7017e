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
});
