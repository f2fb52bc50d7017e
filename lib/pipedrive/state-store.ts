import { db } from "../db.ts";

export async function saveState(row: { nonceHash: string; tenantId: string; userId: string; now: Date; expiresAt: Date }) {
  await db().$transaction([
    // Housekeeping, within the tenant: flows older than their TTL can never complete.
    db().oauthState.deleteMany({ where: { tenantId: row.tenantId, expiresAt: { lt: row.now } } }),
    db().oauthState.create({
      data: { nonceHash: row.nonceHash, tenantId: row.tenantId, userId: row.userId, createdAt: row.now, expiresAt: row.expiresAt },
    }),
  ]);
}

export type ConsumeResult = "ok" | "expired" | "reused" | "unknown";

/**
 * Marks the state used, atomically: of two callbacks racing with the same state exactly one
 * gets "ok". Only a state that belongs to this user in this tenant can be consumed.
 */
export async function consumeState(nonceHash: string, tenantId: string, userId: string, now: Date): Promise<ConsumeResult> {
  const claimed = await db().$queryRaw<{ expires_at: Date }[]>`
    UPDATE pipedrive_oauth_states SET consumed_at = ${now}
    WHERE nonce_hash = ${nonceHash} AND tenant_id = ${tenantId}::uuid AND user_id = ${userId}::uuid AND consumed_at IS NULL
    RETURNING expires_at`;
  const row = claimed[0];
  if (row) return row.expires_at > now ? "ok" : "expired";
  const existing = await db().oauthState.findFirst({ where: { nonceHash, tenantId, userId }, select: { consumedAt: true } });
  return existing ? "reused" : "unknown";
}
