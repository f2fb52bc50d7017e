import { readdir } from "node:fs/promises";
import path from "node:path";

import { sql } from "./db.ts";
import { activeAlerts } from "./operator-alerts.ts";
import { lastScanAt } from "./pipedrive/keeper-store.ts";

// What a load balancer and an operator need to know, with no secret in it.

/** The keeper scans every minute; five quiet minutes mean none is running. */
export const KEEPER_QUIET_MS = 5 * 60_000;

export type Readiness = {
  ready: boolean;
  checks: {
    database: "ok" | "unreachable";
    migrations: "ok" | "pending" | "unknown";
    keeper: { status: "ok" | "stale" | "never_ran" | "unknown"; lastScanAt: string | null };
    pipedriveCredentials: { status: "ok" | "rejected"; since: string | null };
  };
};

export async function readiness(now: Date): Promise<Readiness> {
  let database: Readiness["checks"]["database"] = "ok";
  try {
    await sql().query("SELECT 1");
  } catch {
    database = "unreachable";
  }
  if (database !== "ok") {
    return {
      ready: false,
      checks: {
        database,
        migrations: "unknown",
        keeper: { status: "unknown", lastScanAt: null },
        pipedriveCredentials: { status: "ok", since: null },
      },
    };
  }
  const [migrations, scanned, alerts] = await Promise.all([migrationState(), lastScanAt(), activeAlerts()]);
  const keeper = scanned === null ? "never_ran" : now.getTime() - scanned.getTime() > KEEPER_QUIET_MS ? "stale" : "ok";
  const rejected = alerts.find((alert) => alert.kind === "pipedrive_app_credentials_rejected");
  return {
    // Rejected app credentials are reported, not a reason to take instances out of rotation:
    // sign-in and the settings page still work, and the banner tells admins what is going on.
    ready: migrations === "ok" && keeper === "ok",
    checks: {
      database,
      migrations,
      keeper: { status: keeper, lastScanAt: scanned?.toISOString() ?? null },
      pipedriveCredentials: {
        status: rejected ? "rejected" : "ok",
        since: rejected?.firstSeenAt.toISOString() ?? null,
      },
    },
  };
}

// The app is started from the project root (npm start); inside Next's server bundle the
// module's own directory is not where the migrations are.
const MIGRATIONS_DIR = path.join(process.cwd(), "prisma", "migrations");

async function migrationState(): Promise<"ok" | "pending" | "unknown"> {
  try {
    const shipped = (await readdir(MIGRATIONS_DIR, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    const { rows } = await sql().query<{ migration_name: string }>(
      `SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    );
    const applied = new Set(rows.map((row) => row.migration_name));
    return shipped.every((name) => applied.has(name)) ? "ok" : "pending";
  } catch {
    return "unknown";
  }
}
