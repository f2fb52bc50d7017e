import "server-only";

import { sql } from "../../db.ts";

// What the keeper reads and writes besides tokens: the due-query, its heartbeat, housekeeping.

/** Connections whose next renewal is due, soonest first: an index scan on next_refresh_at. */
export async function dueConnections(now: Date, limit: number): Promise<string[]> {
  const { rows } = await sql().query<{ tenant_id: string }>({
    name: "keeper-due-connections",
    text: `SELECT tenant_id FROM pipedrive_connections WHERE next_refresh_at <= $1 ORDER BY next_refresh_at LIMIT $2`,
    values: [now, limit],
  });
  return rows.map((row) => row.tenant_id);
}

export async function beat(name: string, now: Date, detail: Record<string, unknown>): Promise<void> {
  await sql().query(
    `INSERT INTO keeper_heartbeats (name, beat_at, detail) VALUES ($1, $2, $3::jsonb)
     ON CONFLICT (name) DO UPDATE SET beat_at = EXCLUDED.beat_at, detail = EXCLUDED.detail`,
    [name, now, JSON.stringify(detail)],
  );
}

/** The last scan's time, for the settings page and the readiness check; null if none ever ran. */
export async function lastScanAt(): Promise<Date | null> {
  const { rows } = await sql().query<{ beat_at: Date }>(`SELECT beat_at FROM keeper_heartbeats WHERE name = 'scan'`);
  return rows[0]?.beat_at ?? null;
}

/**
 * Connect flows that can no longer complete, for every tenant. Kept an hour past expiry so a
 * late callback still hears "expired" rather than "unknown".
 */
export async function purgeExpiredStates(now: Date): Promise<number> {
  const { rowCount } = await sql().query(
    `DELETE FROM pipedrive_oauth_states WHERE expires_at < $1::timestamptz - interval '1 hour'`,
    [now],
  );
  return rowCount ?? 0;
}
