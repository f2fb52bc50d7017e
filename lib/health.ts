import { readdir } from "node:fs/promises";
import path from "node:path";

import { env } from "./env.ts";
import { appliedMigrations, databaseAnswers } from "./health-store.ts";
import { activeAlerts, APP_CREDENTIALS_REJECTED } from "./operator-alert-store.ts";
import { lastScanAt } from "./pipedrive/keeper/keeper-store.ts";

// What a load balancer and an operator need to know, with no secret in it.

/** The keeper scans every minute; five quiet minutes mean none is running. */
export const KEEPER_QUIET_MS = 5 * 60_000;

export type KeeperStatus = "ok" | "stale" | "never_ran";

/** The one reading of the keeper's heartbeat, for readiness and the settings page. */
export function keeperStatus(lastScan: Date | null, now: Date): KeeperStatus {
  if (lastScan === null) return "never_ran";
  return now.getTime() - lastScan.getTime() > KEEPER_QUIET_MS ? "stale" : "ok";
}

const mailStatus = () => (env().SMTP_URL ? "on" : "off");

export type Readiness = {
  ready: boolean;
  checks: {
    database: "ok" | "unreachable";
    migrations: "ok" | "pending" | "unknown";
    keeper: { status: KeeperStatus | "unknown"; lastScanAt: string | null };
    pipedriveCredentials: { status: "ok" | "rejected"; since: string | null };
    /** Mail to admins: off without SMTP_URL (reported, not a reason to be unready). */
    mail: "on" | "off";
  };
};

export async function readiness(now: Date): Promise<Readiness> {
  if (!(await databaseAnswers())) {
    return {
      ready: false,
      checks: {
        database: "unreachable",
        migrations: "unknown",
        keeper: { status: "unknown", lastScanAt: null },
        pipedriveCredentials: { status: "ok", since: null },
        mail: mailStatus(),
      },
    };
  }
  const [migrations, scanned, alerts] = await Promise.all([migrationState(), lastScanAt(), activeAlerts()]);
  const keeper = keeperStatus(scanned, now);
  const rejected = alerts.find((alert) => alert.kind === APP_CREDENTIALS_REJECTED);
  return {
    // Rejected app credentials are reported, not a reason to take instances out of rotation:
    // sign-in and the settings page still work, and the banner tells admins what is going on.
    ready: migrations === "ok" && keeper === "ok",
    checks: {
      database: "ok",
      migrations,
      keeper: { status: keeper, lastScanAt: scanned?.toISOString() ?? null },
      pipedriveCredentials: {
        status: rejected ? "rejected" : "ok",
        since: rejected?.firstSeenAt.toISOString() ?? null,
      },
      mail: mailStatus(),
    },
  };
}

/**
 * `compute`, shared by every caller for `ttlMs`: anonymous readiness probes cost at most one
 * round of database reads every few seconds, however many arrive. A failure is not kept.
 */
export function sharedFor<T>(ttlMs: number, compute: (now: Date) => Promise<T>): (now: Date) => Promise<T> {
  let last: { at: number; value: Promise<T> } | null = null;
  return (now) => {
    if (!last || now.getTime() - last.at > ttlMs) {
      const value = compute(now);
      const entry = { at: now.getTime(), value };
      last = entry;
      value.catch(() => {
        if (last === entry) last = null;
      });
    }
    return last.value;
  };
}

/** What /api/health/ready answers: readiness, at most 5 seconds old. */
export const cachedReadiness = sharedFor(5_000, readiness);

// The app is started from the project root (npm start); inside Next's server bundle the
// module's own directory is not where the migrations are.
const MIGRATIONS_DIR = path.join(process.cwd(), "prisma", "migrations");

async function migrationState(): Promise<"ok" | "pending" | "unknown"> {
  try {
    const shipped = (await readdir(MIGRATIONS_DIR, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    const applied = await appliedMigrations();
    return shipped.every((name) => applied.has(name)) ? "ok" : "pending";
  } catch {
    return "unknown";
  }
}
