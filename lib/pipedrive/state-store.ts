import "server-only";

import { db, sql } from "../db.ts";

/** Connect flows one user may have open at once (tabs, retries); older ones are dropped. */
export const MAX_OPEN_STATES_PER_USER = 5;

export async function saveState(row: {
  nonceHash: string;
  tenantId: string;
  userId: string;
  now: Date;
  expiresAt: Date;
  pkceVerifier: string | null;
}) {
  await db().$transaction([
    db().oauthState.create({
      data: {
        nonceHash: row.nonceHash,
        tenantId: row.tenantId,
        userId: row.userId,
        createdAt: row.now,
        expiresAt: row.expiresAt,
        pkceVerifier: row.pkceVerifier,
      },
    }),
    // Keep only this user's newest few open flows; expired ones for every tenant go with the keeper's purge.
    db().$executeRaw`
      DELETE FROM pipedrive_oauth_states WHERE tenant_id = ${row.tenantId}::uuid AND user_id = ${row.userId}::uuid AND consumed_at IS NULL
        AND nonce_hash NOT IN (
          SELECT nonce_hash FROM pipedrive_oauth_states
          WHERE tenant_id = ${row.tenantId}::uuid AND user_id = ${row.userId}::uuid AND consumed_at IS NULL
          ORDER BY created_at DESC, nonce_hash LIMIT ${MAX_OPEN_STATES_PER_USER})`,
  ]);
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
