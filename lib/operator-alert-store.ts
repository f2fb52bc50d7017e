import "server-only";

import { sql } from "./db.ts";
import { log } from "./log.ts";

// Alerts for whoever runs the CRM. Raised when something only they can fix is seen, cleared as
// soon as it is seen working again.

export const APP_CREDENTIALS_REJECTED = "pipedrive_app_credentials_rejected";

export type OperatorAlert = { kind: string; message: string; firstSeenAt: Date; lastSeenAt: Date };

export async function raiseAlert(kind: string, message: string, now: Date): Promise<void> {
  const { rows } = await sql().query<{ fresh: boolean }>(
    `INSERT INTO operator_alerts (kind, message, first_seen_at, last_seen_at, cleared_at) VALUES ($1, $2, $3, $3, NULL)
     ON CONFLICT (kind) DO UPDATE SET message = EXCLUDED.message, last_seen_at = EXCLUDED.last_seen_at, cleared_at = NULL,
       first_seen_at = CASE WHEN operator_alerts.cleared_at IS NULL THEN operator_alerts.first_seen_at ELSE EXCLUDED.first_seen_at END
     RETURNING (xmax = 0 OR first_seen_at = last_seen_at) AS fresh`,
    [kind, message, now],
  );
  if (rows[0]?.fresh) log().error({ alert: kind }, message);
}

export async function clearAlert(kind: string, now: Date): Promise<void> {
  const { rowCount } = await sql().query(
    `UPDATE operator_alerts SET cleared_at = $2 WHERE kind = $1 AND cleared_at IS NULL`,
    [kind, now],
  );
  if (rowCount) log().info({ alert: kind }, "operator alert cleared");
}

export async function activeAlerts(): Promise<OperatorAlert[]> {
  const { rows } = await sql().query<OperatorAlert>(
    `SELECT kind, message, first_seen_at AS "firstSeenAt", last_seen_at AS "lastSeenAt" FROM operator_alerts WHERE cleared_at IS NULL ORDER BY kind`,
  );
  return rows;
}

/** When this process last recorded that Pipedrive accepted our credentials (ms), or 0. */
let acceptedRecordedAt = 0;

/**
 * What the OAuth client reports after every token-endpoint answer. An acceptance is written at
 * most once a minute per process: written for every answer, it cost each exchange and refresh a
 * round trip to a pool that may be saturated.
 */
export async function reportAppCredentials(accepted: boolean): Promise<void> {
  const now = new Date();
  if (accepted) {
    if (now.getTime() - acceptedRecordedAt < 60_000) return;
    acceptedRecordedAt = now.getTime();
    await clearAlert(APP_CREDENTIALS_REJECTED, now).catch((error: unknown) => {
      acceptedRecordedAt = 0;
      throw error;
    });
    return;
  }
  acceptedRecordedAt = 0;
  await raiseAlert(
    APP_CREDENTIALS_REJECTED,
    "Pipedrive rejects this app's client credentials (invalid_client): check PIPEDRIVE_CLIENT_ID and PIPEDRIVE_CLIENT_SECRET.",
    now,
  );
}
