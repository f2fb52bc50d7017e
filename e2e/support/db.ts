import { readFileSync } from "node:fs";
import path from "node:path";

import pg from "pg";
import PgBoss from "pg-boss";

import { createTestRows } from "../../testing/test-rows.ts";
import { DEMO_TENANT_ID, OTHER_TENANT_ID, STATE_DIR } from "./env.ts";

// Direct access to the suite's database, for assertions and for resetting between tests.

let pool: pg.Pool | undefined;
const databaseUrl = () => readFileSync(path.join(STATE_DIR, "database-url"), "utf8").trim();
function db() {
  pool ??= new pg.Pool({ connectionString: databaseUrl(), max: 2 });
  return pool;
}

/**
 * Asks the running keeper to do one of its scheduled jobs now ("pipedrive-notify" …), as its
 * minute's schedule would: a job on its pg-boss queue, which its worker picks up at its next poll.
 */
export async function keeperRunNow(queue: string) {
  const boss = new PgBoss({
    connectionString: databaseUrl(),
    max: 1,
    supervise: false,
    schedule: false,
    migrate: false,
  });
  await boss.start();
  try {
    await boss.send(queue, {});
  } finally {
    await boss.stop({ graceful: false, wait: true });
  }
}

export type { ContractRow } from "../../testing/test-rows.ts";

/** The shared fixtures, on the suite's database, for this worker's workspaces. */
export const testDb = {
  ...createTestRows(
    { query: (text, values) => db().query(text, values) },
    { demo: DEMO_TENANT_ID, other: OTHER_TENANT_ID },
  ),
  /** Forgets the lookup limits' counts of this worker's workspaces and their users. */
  async resetLookupLimits() {
    await db().query(
      `DELETE FROM rate_limits WHERE (key LIKE 'lookup%' OR key LIKE 'ask-admins%' OR key LIKE 'check-now%') AND split_part(key, ':', 2) IN (
         SELECT id::text FROM tenants WHERE id = ANY($1::uuid[])
         UNION ALL SELECT id::text FROM users WHERE tenant_id = ANY($1::uuid[]))`,
      [[DEMO_TENANT_ID, OTHER_TENANT_ID]],
    );
  },
  async query<R extends object>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await db().query(text, values)).rows as R[];
  },
  async end() {
    await pool?.end();
    pool = undefined;
  },
};
