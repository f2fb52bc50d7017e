import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

import pg from "pg";

// Applies prisma/migrations/*/migration.sql and records them in _prisma_migrations
// exactly as `prisma migrate deploy` does, so either tool can take over from the other.
// The Prisma CLI cannot be used for this here: its schema engine is a download.

// The advisory lock key Prisma's own migrate uses: we never run alongside it either.
const MIGRATE_LOCK_KEY = 72707369;

export const MIGRATIONS_DIR = path.join(import.meta.dirname, "..", "prisma", "migrations");

export type MigrateResult = { applied: string[]; alreadyApplied: number };

export async function migrate(databaseUrl: string, dir = MIGRATIONS_DIR): Promise<MigrateResult> {
  const migrations = await readMigrations(dir);
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
  } catch (error) {
    const target = new URL(databaseUrl);
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `Cannot reach the database at ${target.hostname}:${target.port || 5432}${target.pathname} (DATABASE_URL): ${reason}`,
      { cause: error },
    );
  }
  try {
    const { rows: version } = await client.query<{ server_version_num: string }>("SHOW server_version_num");
    assertSupportedServer(Number(version[0]?.server_version_num));
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATE_LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum" VARCHAR(64) NOT NULL,
      "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL,
      "logs" TEXT,
      "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0
    )`);
    const { rows } = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
      `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL`,
    );
    const recorded = new Map(rows.map((row) => [row.migration_name, row]));
    const applied: string[] = [];
    for (const migration of migrations) {
      const row = recorded.get(migration.name);
      if (row && !row.finished_at) {
        throw new Error(`Migration ${migration.name} is recorded as failed; resolve it before migrating again.`);
      }
      if (row) {
        if (row.checksum !== migration.checksum) {
          throw new Error(`Migration ${migration.name} was edited after it was applied; add a new migration instead.`);
        }
        continue;
      }
      await client.query("BEGIN");
      try {
        const id = randomUUID();
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)`,
          [id, migration.checksum, migration.name],
        );
        await client.query(migration.sql);
        await client.query(
          `UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1 WHERE id = $1`,
          [id],
        );
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw new Error(`Migration ${migration.name} failed and was rolled back`, { cause: error });
      }
      applied.push(migration.name);
    }
    return { applied, alreadyApplied: migrations.length - applied.length };
  } finally {
    await client.end();
  }
}

/** PostgreSQL 13 is the oldest the app and its job queue (pg-boss 10) support. */
export const MIN_SERVER_VERSION = 130000;

export function assertSupportedServer(versionNum: number): void {
  if (!Number.isFinite(versionNum) || versionNum < MIN_SERVER_VERSION) {
    const found = Number.isFinite(versionNum)
      ? `${Math.floor(versionNum / 10000)}.${versionNum % 10000}`
      : "an unknown version";
    throw new Error(`This app needs PostgreSQL 13 or newer; the server at DATABASE_URL runs ${found}.`);
  }
}

async function readMigrations(dir: string) {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(path.join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    }),
  );
}
