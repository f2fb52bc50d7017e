import { readFileSync } from "node:fs";
import path from "node:path";

import pg from "pg";

import { createFixtures } from "../../testing/fixtures/index.ts";
import { STATE_DIR } from "./env.ts";

// Direct access to the suite's database, for assertions and for resetting between tests.

let pool: pg.Pool | undefined;
function db() {
  pool ??= new pg.Pool({ connectionString: readFileSync(path.join(STATE_DIR, "database-url"), "utf8").trim(), max: 2 });
  return pool;
}

export type { ContractRow } from "../../testing/fixtures/index.ts";

/** The shared fixtures, on the suite's database. */
export const testDb = {
  ...createFixtures({ query: (text, values) => db().query(text, values) }),
  async query<R extends object>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await db().query(text, values)).rows as R[];
  },
  async end() {
    await pool?.end();
    pool = undefined;
  },
};
