import { randomUUID } from "node:crypto";

import { afterAll, describe, expect, inject, it } from "vitest";

import { sql } from "../db.ts";
import { HOUSEKEEPING_QUEUE, startHousekeeping } from "./housekeeping.ts";

// The CRM's housekeeping runs apart from Pipedrive's keeper: its own pg-boss queue, scheduled,
// purging what sign-in and rate limiting keep for a while.

describe("housekeeping", () => {
  const started: { stop: () => Promise<void> }[] = [];
  afterAll(async () => Promise.all(started.map((h) => h.stop())));

  it("purges stale sign-in addresses and expired counters on its own schedule, and keeps the rest", async () => {
    const now = new Date();
    const [stale, fresh] = [randomUUID(), randomUUID()];
    await sql().query(
      `INSERT INTO known_sign_in_addresses (account, address, last_success_at)
       VALUES ($1, '203.0.113.1', $3::timestamptz - interval '400 days'), ($2, '203.0.113.1', $3)`,
      [stale, fresh, now],
    );
    await sql().query(`INSERT INTO rate_limits (key, points, expire) VALUES ($1, 1, $3), ($2, 1, $4)`, [
      `old:${stale}`,
      `new:${fresh}`,
      now.getTime() - 2 * 3_600_000,
      now.getTime() + 60_000,
    ]);
    const housekeeping = await startHousekeeping({ databaseUrl: inject("databaseUrl"), now: () => now, log: () => {} });
    started.push(housekeeping);

    const purged = await housekeeping.run();
    expect(purged.signInAddresses).toBeGreaterThanOrEqual(1);
    expect(purged.counters).toBeGreaterThanOrEqual(1);
    const addresses = await sql().query(`SELECT account FROM known_sign_in_addresses WHERE account = ANY($1)`, [
      [stale, fresh],
    ]);
    expect(addresses.rows.map((r) => r.account)).toEqual([fresh]);
    const counters = await sql().query(`SELECT key FROM rate_limits WHERE key = ANY($1)`, [
      [`old:${stale}`, `new:${fresh}`],
    ]);
    expect(counters.rows.map((r) => r.key)).toEqual([`new:${fresh}`]);
    const schedules = await sql().query(`SELECT cron FROM pgboss.schedule WHERE name = $1`, [HOUSEKEEPING_QUEUE]);
    expect(schedules.rows).toEqual([{ cron: "*/10 * * * *" }]);
  });
});
