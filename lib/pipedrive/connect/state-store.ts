import "server-only";

import type { VerifiedSession } from "../../auth/session.ts";
import { db, inTransaction, sql } from "../../db.ts";
import { TENANT_USER_COLUMNS, type TenantUser } from "../../users/user-store.ts";

/** Connect flows one user may have open at once (tabs, retries); older ones are dropped. */
export const MAX_OPEN_STATES_PER_USER = 5;

export async function saveState(row: {
  nonceHash: string;
  tenantId: string;
  userId: string;
  now: Date;
  expiresAt: Date;
  pkceVerifier: string | null;
  /** The verified session the flow is started in, for the callback to recognise. */
  session: StartedIn | null;
}) {
  // Plain pg on the pool every query waits on: Prisma's batch transaction gives up after its own
  // 2 s wait for a connection (maxWait), which failed Connects whenever the pool was briefly busy.
  await inTransaction(sql(), async (client) => {
    await client.query(
      `INSERT INTO pipedrive_oauth_states (nonce_hash, tenant_id, user_id, created_at, expires_at, pkce_verifier,
         session_key, session_version, session_expires_at)
       VALUES ($1, $2::uuid, $3::uuid, $4, $5, $6, $7, $8, $9)`,
      [
        row.nonceHash,
        row.tenantId,
        row.userId,
        row.now,
        row.expiresAt,
        row.pkceVerifier,
        row.session?.key ?? null,
        row.session?.version ?? null,
        row.session?.expiresAt ?? null,
      ],
    );
    // Keep only this user's newest few open flows; expired ones for every tenant go with the keeper's purge.
    await client.query(
      `DELETE FROM pipedrive_oauth_states WHERE tenant_id = $1::uuid AND user_id = $2::uuid AND consumed_at IS NULL
         AND nonce_hash NOT IN (
           SELECT nonce_hash FROM pipedrive_oauth_states
           WHERE tenant_id = $1::uuid AND user_id = $2::uuid AND consumed_at IS NULL
           ORDER BY created_at DESC, nonce_hash LIMIT $3)`,
      [row.tenantId, row.userId, MAX_OPEN_STATES_PER_USER],
    );
  });
}

export type StartedIn = VerifiedSession & { version: number };

/**
 * The callback's quick path, in one statement: consumes the state only if the request presents
 * the very session token the flow was started in (by its key), that session has not expired,
 * and its user still holds that session's version; and re-reads the user. Anything else claims
 * nothing and answers null, for the full check to find the reason.
 */
export async function claimStateInSession(
  nonceHash: string,
  sessionKey: string,
  now: Date,
  sessionClock: Date,
): Promise<{ user: TenantUser; pkceVerifier: string | null } | null> {
  const { rows } = await sql().query<TenantUser & { pkceVerifier: string | null }>({
    name: "oauth-state-claim-in-session",
    text: `UPDATE pipedrive_oauth_states s SET consumed_at = $3
           FROM users u JOIN tenants t ON t.id = u.tenant_id
           WHERE s.nonce_hash = $1 AND s.session_key = $2 AND s.consumed_at IS NULL
             AND s.expires_at > $3 AND s.session_expires_at > $4
             AND u.id = s.user_id AND u.tenant_id = s.tenant_id AND u.session_version = s.session_version
           RETURNING ${TENANT_USER_COLUMNS}, s.pkce_verifier AS "pkceVerifier"`,
    values: [nonceHash, sessionKey, now, sessionClock],
  });
  const row = rows[0];
  if (!row) return null;
  const { pkceVerifier, ...user } = row;
  return { user, pkceVerifier };
}

export type ConsumeResult =
  { result: "ok"; pkceVerifier: string | null } | { result: "expired" | "reused" | "unknown" };

/**
 * Marks the state used, atomically: of two callbacks racing with the same state exactly one
 * gets "ok". Only a state that belongs to this user in this tenant can be consumed.
 */
export async function consumeState(
  nonceHash: string,
  tenantId: string,
  userId: string,
  now: Date,
): Promise<ConsumeResult> {
  const claimed = await sql().query<{ expires_at: Date; pkce_verifier: string | null }>(
    `UPDATE pipedrive_oauth_states SET consumed_at = $1
     WHERE nonce_hash = $2 AND tenant_id = $3::uuid AND user_id = $4::uuid AND consumed_at IS NULL
     RETURNING expires_at, pkce_verifier`,
    [now, nonceHash, tenantId, userId],
  );
  const row = claimed.rows[0];
  if (row) return row.expires_at > now ? { result: "ok", pkceVerifier: row.pkce_verifier } : { result: "expired" };
  const existing = await db().oauthState.findFirst({
    where: { nonceHash, tenantId, userId },
    select: { consumedAt: true },
  });
  return { result: existing ? "reused" : "unknown" };
}
