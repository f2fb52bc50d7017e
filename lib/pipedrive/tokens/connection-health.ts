import "server-only";

import { createHash } from "node:crypto";

import type pg from "pg";

import { db, sql, type Tx } from "../../db.ts";
import type { Prisma } from "../../generated/prisma/client.ts";
import type { TokenSet } from "../oauth-client.ts";
import type { PipedriveMe } from "../schemas.ts";
import type { TokenRow } from "./contract-store.ts";
import { expiresAt, NEEDS_RECONNECT_RECHECK_MS } from "./policy.ts";

// The one writer of pipedrive_connections (a connection's health and schedule) and of the audit
// trail. Each state change and its audit event are written together; nothing here holds a token.

export type AuditEvent =
  "connected" | "reconnected" | "disconnected" | "uninstalled" | "refresh_failed" | "recovered" | "revoke_failed";

/** What the admin reads (plain words), and what support reads in the audit trail. */
export type NeedsReconnectReason = { message: string; detail: string };

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** The refresh token in the row is one Pipedrive already refused. */
export function isKnownRejected(row: Pick<TokenRow, "rejectedHash" | "refreshToken">): boolean {
  return row.rejectedHash !== null && row.rejectedHash === hashToken(row.refreshToken);
}

export async function audit(
  tenantId: string,
  event: AuditEvent,
  actorUserId: string | null,
  detail: Prisma.InputJsonObject = {},
  client: Tx = db(),
) {
  await client.pipedriveAuditEvent.create({ data: { tenantId, event, actorUserId, detail } });
}

async function auditWith(client: pg.PoolClient, tenantId: string, event: AuditEvent, detail: Record<string, unknown>) {
  await client.query(`INSERT INTO pipedrive_audit_events (tenant_id, event, detail) VALUES ($1::uuid, $2, $3::jsonb)`, [
    tenantId,
    event,
    JSON.stringify(detail),
  ]);
}

/** Remembers that Pipedrive refused this refresh token, without judging the grant yet. */
export async function recordRejected(client: pg.PoolClient, tenantId: string, refreshToken: string): Promise<void> {
  await client.query(`UPDATE pipedrive_connections SET rejected_refresh_token_hash = $2 WHERE tenant_id = $1::uuid`, [
    tenantId,
    hashToken(refreshToken),
  ]);
}

/** A refresh worked: healthy again, next visit set; true (and audited) if it had needed a reconnect. */
export async function markRefreshed(
  client: pg.PoolClient,
  tenantId: string,
  now: Date,
  nextRefreshAt: Date,
): Promise<boolean> {
  const { rows } = await client.query<{ was: string }>(
    `UPDATE pipedrive_connections c SET status = 'connected', rejected_refresh_token_hash = NULL, last_refreshed_at = $2,
            last_error = NULL, last_error_at = NULL, updated_at = $2, next_refresh_at = $3
     FROM (SELECT status FROM pipedrive_connections WHERE tenant_id = $1::uuid) AS before
     WHERE c.tenant_id = $1::uuid
     RETURNING before.status::text AS was`,
    [tenantId, now, nextRefreshAt],
  );
  const recovered = rows[0]?.was === "needs_reconnect";
  if (recovered) await auditWith(client, tenantId, "recovered", { reason: "the refresh token in the row works again" });
  return recovered;
}

/** Marks needs_reconnect if not marked yet; audits once. */
export async function markNeedsReconnect(
  client: pg.PoolClient,
  tenantId: string,
  refreshToken: string | null,
  reason: NeedsReconnectReason,
  now: Date,
): Promise<boolean> {
  const { rowCount } = await client.query(
    `UPDATE pipedrive_connections SET status = 'needs_reconnect', last_error = $2, last_error_at = $3, updated_at = $3,
            rejected_refresh_token_hash = COALESCE($4, rejected_refresh_token_hash), next_refresh_at = $5
     WHERE tenant_id = $1::uuid AND status <> 'needs_reconnect'`,
    [
      tenantId,
      reason.message.slice(0, 500),
      now,
      refreshToken === null ? null : hashToken(refreshToken),
      new Date(now.getTime() + NEEDS_RECONNECT_RECHECK_MS),
    ],
  );
  if (rowCount) await auditWith(client, tenantId, "refresh_failed", { reason: reason.detail.slice(0, 200) });
  return Boolean(rowCount);
}

/** The keeper's next visit, computed by the renewal policy. */
export async function setNextVisit(tenantId: string, at: Date): Promise<void> {
  await sql().query(`UPDATE pipedrive_connections SET next_refresh_at = $2 WHERE tenant_id = $1::uuid`, [tenantId, at]);
}

/**
 * Writes a fresh connection: the contract row (one upsert), its metadata and the audit event,
 * as one statement, so it is atomic without a transaction's extra round trips. Two admins
 * connecting at once serialise on the row and leave one consistent pair.
 */
export async function saveConnection(input: {
  tenantId: string;
  tokens: TokenSet & { refreshToken: string; apiHost: string };
  me: PipedriveMe;
  actor: { id: string; name: string };
  now: Date;
  /** When the keeper should first renew it. */
  nextRefreshAt: Date;
}): Promise<"connected" | "reconnected"> {
  const { tenantId, tokens, me, actor, now, nextRefreshAt } = input;
  const detail = JSON.stringify({
    companyId: me.company_id,
    companyName: me.company_name,
    pipedriveUserId: me.id,
    scopes: tokens.scopes,
  });
  // xmax = 0 tells a fresh insert from a replaced row.
  const [saved] = await db().$queryRaw<{ inserted: boolean }[]>`
    WITH token AS (
      INSERT INTO lead_pipedrive_integrations (tenant_id, access_token, refresh_token, expires_at, api_domain)
      VALUES (${tenantId}::uuid, ${tokens.accessToken}, ${tokens.refreshToken}, ${expiresAt(now, tokens.expiresInSeconds)}, ${tokens.apiHost})
      ON CONFLICT (tenant_id) DO UPDATE SET
        access_token = EXCLUDED.access_token, refresh_token = EXCLUDED.refresh_token,
        expires_at = EXCLUDED.expires_at, api_domain = EXCLUDED.api_domain
      RETURNING (xmax = 0) AS inserted
    ), meta AS (
      INSERT INTO pipedrive_connections (tenant_id, status, company_id, company_name, company_domain, pipedrive_user_id,
        pipedrive_user_name, scopes, connected_by_user_id, connected_by_name, connected_at, last_error, last_error_at, updated_at, next_refresh_at)
      VALUES (${tenantId}::uuid, 'connected', ${me.company_id}, ${me.company_name}, ${me.company_domain}, ${me.id},
        ${me.name}, ${tokens.scopes}::text[], ${actor.id}::uuid, ${actor.name}, ${now}, NULL, NULL, ${now}, ${nextRefreshAt})
      ON CONFLICT (tenant_id) DO UPDATE SET
        status = EXCLUDED.status, company_id = EXCLUDED.company_id, company_name = EXCLUDED.company_name,
        company_domain = EXCLUDED.company_domain, pipedrive_user_id = EXCLUDED.pipedrive_user_id,
        pipedrive_user_name = EXCLUDED.pipedrive_user_name, scopes = EXCLUDED.scopes,
        connected_by_user_id = EXCLUDED.connected_by_user_id, connected_by_name = EXCLUDED.connected_by_name,
        connected_at = EXCLUDED.connected_at, last_error = NULL, last_error_at = NULL, updated_at = EXCLUDED.updated_at,
        rejected_refresh_token_hash = NULL, last_refreshed_at = NULL, next_refresh_at = EXCLUDED.next_refresh_at
    ), event AS (
      INSERT INTO pipedrive_audit_events (tenant_id, actor_user_id, event, detail)
      SELECT ${tenantId}::uuid, ${actor.id}::uuid, CASE WHEN inserted THEN 'connected' ELSE 'reconnected' END, ${detail}::jsonb
      FROM token
    )
    SELECT inserted FROM token`;
  return saved?.inserted ? "connected" : "reconnected";
}

/** Deletes the contract row and its metadata; returns whether anything was connected. */
export async function removeConnection(
  tenantId: string,
  event: "disconnected" | "uninstalled",
  actorUserId: string | null,
  detail: Prisma.InputJsonObject,
): Promise<boolean> {
  return db().$transaction(async (tx) => {
    const removed = await tx.leadPipedriveIntegration.deleteMany({ where: { tenantId } });
    const removedMeta = await tx.pipedriveConnection.deleteMany({ where: { tenantId } });
    const had = removed.count + removedMeta.count > 0;
    if (had) await audit(tenantId, event, actorUserId, detail, tx);
    return had;
  });
}
