import { db, type Tx } from "../db.ts";
import type { Prisma } from "../generated/prisma/client.ts";
import { allowedApiHost, type HostPolicy, toBareHost } from "./api-domain.ts";
import type { TokenSet } from "./oauth-client.ts";
import type { PipedriveMe } from "./schemas.ts";
import { expiresAt } from "./token-store.ts";

// CRM-owned: what the contract table cannot hold, and the audit trail. No token ever lands here.

export type AuditEvent =
  | "connected"
  | "reconnected"
  | "disconnected"
  | "uninstalled"
  | "refresh_failed"
  | "recovered"
  | "revoke_failed";

export type ConnectionView = {
  status: "connected" | "needs_reconnect";
  companyName: string | null;
  companyDomain: string | null;
  pipedriveUserName: string | null;
  scopes: string[];
  connectedByName: string | null;
  connectedAt: Date | null;
  tokenExpiresAt: Date;
  apiHost: string;
  /** False when the row names a host we would never send a token to. */
  hostAllowed: boolean;
  lastError: string | null;
  lastErrorAt: Date | null;
  lastRefreshedAt: Date | null;
  /** When the token is next renewed; null when that is due now. */
  nextRenewalAt: Date | null;
  /** Pipedrive's limit for this company is spent: lookups resume then. */
  lookupsPausedUntil: Date | null;
};

export async function audit(
  tenantId: string,
  event: AuditEvent,
  actorUserId: string | null,
  detail: Prisma.InputJsonObject = {},
  client: Tx = db(),
) {
  await client.pipedriveAuditEvent.create({ data: { tenantId, event, actorUserId, detail } });
}

/** What the settings page shows; null when the tenant has no token row. */
export async function getConnectionView(
  tenantId: string,
  options: { hosts: HostPolicy; renewBeforeSeconds: number; now: Date },
): Promise<ConnectionView | null> {
  const [token, connection] = await Promise.all([
    db().leadPipedriveIntegration.findUnique({ where: { tenantId }, select: { expiresAt: true, apiDomain: true } }),
    db().pipedriveConnection.findUnique({ where: { tenantId } }),
  ]);
  if (!token) return null;
  const limit = await db().pipedriveRateLimit.findUnique({ where: { apiHost: toBareHost(token.apiDomain) }, select: { blockedUntil: true } });
  const nextRenewal = token.expiresAt.getTime() - options.renewBeforeSeconds * 1000;
  return {
    status: connection?.status ?? "connected",
    companyName: connection?.companyName ?? null,
    companyDomain: connection?.companyDomain ?? null,
    pipedriveUserName: connection?.pipedriveUserName ?? null,
    scopes: connection?.scopes ?? [],
    connectedByName: connection?.connectedByName ?? null,
    connectedAt: connection?.connectedAt ?? null,
    tokenExpiresAt: token.expiresAt,
    apiHost: toBareHost(token.apiDomain),
    hostAllowed: allowedApiHost(token.apiDomain, options.hosts) !== null,
    lastError: connection?.lastError ?? null,
    lastErrorAt: connection?.lastErrorAt ?? null,
    lastRefreshedAt: connection?.lastRefreshedAt ?? null,
    nextRenewalAt: nextRenewal > options.now.getTime() ? new Date(nextRenewal) : null,
    lookupsPausedUntil: limit && limit.blockedUntil > options.now ? limit.blockedUntil : null,
  };
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
  const detail = JSON.stringify({ companyId: me.company_id, companyName: me.company_name, pipedriveUserId: me.id, scopes: tokens.scopes });
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

/** The refresh token, for revoking it before the row goes. */
export async function getRefreshToken(tenantId: string): Promise<string | null> {
  const row = await db().leadPipedriveIntegration.findUnique({ where: { tenantId }, select: { refreshToken: true } });
  return row?.refreshToken ?? null;
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

export async function tenantsConnectedToCompany(companyId: number): Promise<string[]> {
  const rows = await db().pipedriveConnection.findMany({ where: { companyId }, select: { tenantId: true } });
  return rows.map((row) => row.tenantId);
}

export async function recentAuditEvents(tenantId: string, take = 10) {
  return db().pipedriveAuditEvent.findMany({
    where: { tenantId },
    orderBy: { id: "desc" },
    take,
    select: { id: true, event: true, createdAt: true, detail: true },
  });
}
