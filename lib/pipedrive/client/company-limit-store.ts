import "server-only";

import { db, sql } from "../../db.ts";
import { toBareHost } from "./api-domain.ts";

// Until when Pipedrive asked every caller to leave a company's API alone (a spent daily
// budget), shared by every process and instance. The token hot path joins it in its one read.

export async function blockCompany(
  apiHost: string,
  until: Date,
  reason: string,
): Promise<{ started: boolean; until: Date }> {
  const { rows } = await sql().query<{ started: boolean; until: Date }>(
    // Never more than a day ahead, whatever a caller computed (MAX_UPSTREAM_WAIT_MS). `started`:
    // no pause was in force before this one (the row's lock orders writers of one host).
    `WITH before AS (SELECT blocked_until FROM pipedrive_rate_limits WHERE api_host = $1 FOR UPDATE)
     INSERT INTO pipedrive_rate_limits (api_host, blocked_until, reason, updated_at)
     VALUES ($1, LEAST($2::timestamptz, now() + interval '24 hours'), $3, now())
     ON CONFLICT (api_host) DO UPDATE SET blocked_until = LEAST(
         GREATEST(pipedrive_rate_limits.blocked_until, EXCLUDED.blocked_until), now() + interval '24 hours'),
       reason = EXCLUDED.reason, updated_at = now()
     RETURNING COALESCE((SELECT blocked_until <= now() FROM before), true) AS started, blocked_until AS until`,
    [apiHost, until, reason.slice(0, 200)],
  );
  return rows[0]!;
}

/** A call worked during a pause (an admin's Check now): the pause is over for every caller. */
export async function liftCompanyPause(apiHost: string): Promise<void> {
  await sql().query(`UPDATE pipedrive_rate_limits SET blocked_until = now(), updated_at = now() WHERE api_host = $1`, [
    apiHost,
  ]);
}

/** When lookups for this host may resume, or null if nothing is paused. */
export async function companyBlockedUntil(apiDomain: string, now: Date): Promise<Date | null> {
  const limit = await db().pipedriveRateLimit.findUnique({
    where: { apiHost: toBareHost(apiDomain) },
    select: { blockedUntil: true },
  });
  return limit && limit.blockedUntil > now ? limit.blockedUntil : null;
}
