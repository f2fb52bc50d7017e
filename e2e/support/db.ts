import { readFileSync } from "node:fs";
import path from "node:path";

import pg from "pg";
import PgBoss from "pg-boss";

import { createFixtures } from "../../testing/fixtures/index.ts";
import { STATE_DIR } from "./env.ts";

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
