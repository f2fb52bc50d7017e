import { db, type Tx } from "../db.ts";
import type { Prisma } from "../generated/prisma/client.ts";
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
  lastError: string | null;
  lastErrorAt: Date | null;
};

export async function audit(
  client: Tx | ReturnType<typeof db> = db(),
  tenantId: string,
  event: AuditEvent,
  actorUserId: string | null,
  detail: Prisma.InputJsonObject = {},
) {
  await client.pipedriveAuditEvent.create({ data: { tenantId, event, actorUserId, detail } });
}

/** What the settings page shows; null when the tenant has no token row. */
export async function getConnectionView(tenantId: string): Promise<ConnectionView | null> {
  const [token, connection] = await Promise.all([
    db().leadPipedriveIntegration.findUnique({ where: { tenantId }, select: { expiresAt: true, apiDomain: true } }),
    db().pipedriveConnection.findUnique({ where: { tenantId } }),
  ]);
  if (!token) return null;
  return {
    status: connection?.status ?? "connected",
    companyName: connection?.companyName ?? null,
    companyDomain: connection?.companyDomain ?? null,
    pipedriveUserName: connection?.pipedriveUserName ?? null,
    scopes: connection?.scopes ?? [],
    connectedByName: connection?.connectedByName ?? null,
    connectedAt: connection?.connectedAt ?? null,
    tokenExpiresAt: token.expiresAt,
    apiHost: token.apiDomain.replace(/^[a-z]+:\/\//i, ""),
    lastError: connection?.lastError ?? null,
    lastErrorAt: connection?.lastErrorAt ?? null,
  };
}

/**
 * Writes a fresh connection: the contract row (one upsert), its metadata and the audit
 * event, in one transaction. Two admins connecting at once serialise on the row and leave
 * one consistent pair.
 */
export async function saveConnection(input: {
  tenantId: string;
  tokens: TokenSet & { refreshToken: string };
  me: PipedriveMe;
  actor: { id: string; name: string };
  now: Date;
}): Promise<"connected" | "reconnected"> {
  const { tenantId, tokens, me, actor, now } = input;
  const contract = {
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    expiresAt: expiresAt(now, tokens.expiresInSeconds),
    apiDomain: tokens.apiHost,
  };
  const metadata = {
    status: "connected" as const,
    companyId: me.company_id,
    companyName: me.company_name,
    companyDomain: me.company_domain,
    pipedriveUserId: me.id,
    pipedriveUserName: me.name,
    scopes: tokens.scopes,
    connectedByUserId: actor.id,
    connectedByName: actor.name,
    connectedAt: now,
    lastError: null,
    lastErrorAt: null,
  };
  return db().$transaction(async (tx) => {
    // One statement; xmax = 0 tells a fresh insert from a replaced row.
    const [upserted] = await tx.$queryRaw<{ inserted: boolean }[]>`
      INSERT INTO lead_pipedrive_integrations (tenant_id, access_token, refresh_token, expires_at, api_domain)
      VALUES (${tenantId}::uuid, ${contract.accessToken}, ${contract.refreshToken}, ${contract.expiresAt}, ${contract.apiDomain})
      ON CONFLICT (tenant_id) DO UPDATE SET
        access_token = EXCLUDED.access_token, refresh_token = EXCLUDED.refresh_token,
        expires_at = EXCLUDED.expires_at, api_domain = EXCLUDED.api_domain
      RETURNING (xmax = 0) AS inserted`;
    await tx.pipedriveConnection.upsert({ where: { tenantId }, create: { tenantId, ...metadata }, update: metadata });
    const event = upserted?.inserted ? "connected" : "reconnected";
    await audit(tx, tenantId, event, actor.id, {
      companyId: me.company_id,
      companyName: me.company_name,
      pipedriveUserId: me.id,
      scopes: tokens.scopes,
    });
    return event;
  });
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
    if (had) await audit(tx, tenantId, event, actorUserId, detail);
    return had;
  });
}

export async function markNeedsReconnect(tenantId: string, reason: string, now: Date, tx: Tx = db()) {
  await tx.pipedriveConnection.updateMany({
    where: { tenantId },
    data: { status: "needs_reconnect", lastError: reason.slice(0, 500), lastErrorAt: now },
  });
  await audit(tx, tenantId, "refresh_failed", null, { reason: reason.slice(0, 200) });
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
