import "server-only";

import { sql } from "./db.ts";

// The database side of readiness.

export async function databaseAnswers(): Promise<boolean> {
  try {
    await sql().query("SELECT 1");
    return true;
  } catch {
    return false;
  }
}

export async function appliedMigrations(): Promise<Set<string>> {
  const { rows } = await sql().query<{ migration_name: string }>(
    `SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
  );
  return new Set(rows.map((row) => row.migration_name));
}
