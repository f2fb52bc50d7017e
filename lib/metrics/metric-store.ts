import "server-only";

import { sql } from "../db.ts";
import { writeBehind } from "../write-behind.ts";

// What /api/metrics reports, read from the database so that every process's events count:
// app instances and keepers alike. Counting never fails or slows the work it counts.

export type CountedMetric =
  "pipedrive_refreshes_total" | "lookups_total" | "pipedrive_answers_total" | "pipedrive_api_waits_total";

const counts = writeBehind<number>({
  name: "metric counts",
  merge: (a, b) => a + b,
  write: (batch) =>
    sql().query(
      `INSERT INTO metric_counters (metric, label, value)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
       ON CONFLICT (metric, label) DO UPDATE SET value = metric_counters.value + EXCLUDED.value`,
      [
        batch.map(([key]) => key.split("\u0000")[0]),
        batch.map(([key]) => key.split("\u0000")[1]),
        batch.map(([, n]) => n),
      ],
    ),
});

/** Adds one to `metric{label}`, written within a second; never throws or waits. */
export function count(metric: CountedMetric, label: string): void {
  counts.add(`${metric}\u0000${label.slice(0, 80)}`, 1);
}

/** Writes this process's counts now (a scrape, tests, and a graceful stop). */
export function countsWritten(): Promise<void> {
  return counts.flush();
}

export async function counters(metric: CountedMetric): Promise<{ label: string; value: number }[]> {
  const { rows } = await sql().query<{ label: string; value: string }>(
    `SELECT label, value::text FROM metric_counters WHERE metric = $1`,
    [metric],
  );
  return rows.map((row) => ({ label: row.label, value: Number(row.value) }));
}

/** Connected workspaces by the status the lead-enrichment service sees. */
export async function connectionsByStatus(): Promise<{ status: string; count: number }[]> {
  const { rows } = await sql().query<{ status: string; count: number }>(
    `SELECT status, count(*)::int AS count FROM lead_pipedrive_integration_status GROUP BY status`,
  );
  return rows;
}

/** How overdue the most overdue renewal is, in seconds (0 when none is). */
export async function keeperLagSeconds(now: Date): Promise<number> {
  const { rows } = await sql().query<{ lag: number | null }>(
    `SELECT EXTRACT(EPOCH FROM ($1::timestamptz - min(next_refresh_at)))::float8 AS lag
     FROM pipedrive_connections WHERE status = 'connected' AND next_refresh_at < $1`,
    [now],
  );
  return Math.max(0, rows[0]?.lag ?? 0);
}

/** Companies whose Pipedrive request limit is spent right now. */
export async function rateLimitedCompanies(now: Date): Promise<number> {
  const { rows } = await sql().query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pipedrive_rate_limits WHERE blocked_until > $1`,
    [now],
  );
  return rows[0]?.n ?? 0;
}
