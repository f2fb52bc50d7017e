import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";

import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

import { runScript } from "../testing/support/run-script.ts";
import { scratchDatabases } from "../testing/support/scratch-databases.ts";
import { migrate, MIGRATIONS_DIR } from "./db-migrate.ts";

// Each test gets its own empty database on the run's server, dropped after the file.
const freshDatabase = scratchDatabases(inject("databaseUrl"));
const clients: pg.Client[] = [];

async function query<T extends pg.QueryResultRow>(url: string, sql: string) {
  const client = new pg.Client({ connectionString: url });
  clients.push(client);
  await client.connect();
  const { rows } = await client.query<T>(sql);
  await client.end();
  return rows;
}

describe("db:migrate", () => {
  let url: string;
  beforeAll(async () => {
    url = await freshDatabase("crm_migrate_test");
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
  });

  it("applies every migration once and records it the way Prisma does", async () => {
    const first = await migrate(url);
    const second = await migrate(url);
    expect(first.applied.length).toBeGreaterThan(0);
    expect(second).toEqual({ applied: [], alreadyApplied: first.applied.length });
    const rows = await query<{
      migration_name: string;
      checksum: string;
      finished_at: Date | null;
      applied_steps_count: number;
      rolled_back_at: Date | null;
    }>(
      url,
      `SELECT migration_name, checksum, finished_at, applied_steps_count, rolled_back_at FROM _prisma_migrations ORDER BY migration_name`,
    );
    expect(rows.map((r) => r.migration_name)).toEqual(first.applied);
    for (const row of rows) {
      const sql = readFileSync(path.join(MIGRATIONS_DIR, row.migration_name, "migration.sql"));
      expect(row.checksum).toBe(createHash("sha256").update(sql).digest("hex"));
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.applied_steps_count).toBe(1);
      expect(row.rolled_back_at).toBeNull();
    }
  });

  it("is safe to run from several processes at once", async () => {
    const concurrent = await freshDatabase("crm_migrate_concurrent");
    const results = await Promise.all([migrate(concurrent), migrate(concurrent), migrate(concurrent)]);
    expect(results.map((r) => r.applied.length).sort()).toEqual([0, 0, results.flatMap((r) => r.applied).length]);
    const rows = await query<{ n: string }>(concurrent, `SELECT count(*)::text AS n FROM _prisma_migrations`);
    expect(rows[0]?.n).toBe(String(results.flatMap((r) => r.applied).length));
  });

  it("refuses to run when an applied migration was edited", async () => {
    const edited = await freshDatabase("crm_migrate_edited");
    await migrate(edited);
    await query(edited, `UPDATE _prisma_migrations SET checksum = repeat('0', 64)`);
    await expect(migrate(edited)).rejects.toThrow(/edited after it was applied/);
  });
});

describe("a bad DATABASE_URL", () => {
  it("stops npm run db:migrate with one clear line naming the database, not a stack trace", async () => {
    const result = await runScript("scripts/migrate.ts", [], {
      DATABASE_URL: "postgresql://nobody:pw@127.0.0.1:1/crm",
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(
      /^\[db\] migration failed: Cannot reach the database at 127\.0\.0\.1:1\/crm \(DATABASE_URL\): .*ECONNREFUSED/,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
