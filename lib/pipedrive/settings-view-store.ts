import "server-only";

import { db, sql } from "../db.ts";
import { allowedApiHost, toBareHost, type HostPolicy } from "./client/api-domain.ts";
import { companyBlockedUntil } from "./client/company-limit-store.ts";
import { missingScopes, scopeInWords } from "./client/scopes.ts";
import type { ConnectionFacts } from "./conditions.ts";

// What the settings page and the uninstall notice read about a connection. Every write to
// these tables goes through connection/connection-store.ts and its executor, connection/move-store.ts.

export type ConnectionView = ConnectionFacts & {
  companyName: string | null;
  companyDomain: string | null;
  pipedriveUserName: string | null;
  pipedriveUserId: number | null;
  scopes: string[];
  connectedByName: string | null;
  connectedAt: Date | null;
  tokenExpiresAt: Date;
  apiHost: string;
  lastError: string | null;
  lastErrorAt: Date | null;
  lastRefreshedAt: Date | null;
  /** When a lookup last worked; null before the first. */
  lastUsedAt: Date | null;
  /** When the token is next renewed; null when that is due now. */
  nextRenewalAt: Date | null;
  /** Permissions lookups need that the grant lacks, in plain words. */
  missingPermissions: string[];
  /** What the grant allows, in plain words. */
  permissions: string[];
  /** The kind of call Pipedrive refused (402, 403) while it pauses lookups. */
  refusedCall: string | null;
};

/** What the settings page shows; null when the tenant has no token row. */
export async function getConnectionView(
  tenantId: string,
  options: { hosts: HostPolicy; now: Date; requiredScopes: string[] },
): Promise<ConnectionView | null> {
  const [token, connection] = await Promise.all([
    db().leadPipedriveIntegration.findUnique({ where: { tenantId }, select: { expiresAt: true, apiDomain: true } }),
    db().pipedriveConnection.findUnique({ where: { tenantId } }),
  ]);
  if (!token) return null;
  // A URL another writer left reads as its host here; the keeper's pass writes the bare host back.
  const allowed = allowedApiHost(token.apiDomain, options.hosts);
  const lookupsPausedUntil = await companyBlockedUntil(token.apiDomain, options.now);
  // The keeper's own schedule, so the page shows what will really happen.
  const nextRenewal = connection?.nextRefreshAt ?? null;
  return {
    status: connection?.status ?? "connected",
    companyName: connection?.companyName ?? null,
    companyDomain: connection?.companyDomain ?? null,
    pipedriveUserName: connection?.pipedriveUserName ?? null,
    pipedriveUserId: connection?.pipedriveUserId ?? null,
    scopes: connection?.scopes ?? [],
    connectedByName: connection?.connectedByName ?? null,
    connectedAt: connection?.connectedAt ?? null,
    tokenExpiresAt: token.expiresAt,
    apiHost: toBareHost(token.apiDomain),
    hostAllowed: allowed !== null,
    lastError: connection?.lastError ?? null,
    lastErrorAt: connection?.lastErrorAt ?? null,
    lastRefreshedAt: connection?.lastRefreshedAt ?? null,
    lastUsedAt: connection?.lastUsedAt ?? null,
    nextRenewalAt: nextRenewal && nextRenewal > options.now ? nextRenewal : null,
    lookupsPausedUntil,
    missingPermissions: connection ? missingScopes(connection.scopes, options.requiredScopes).map(scopeInWords) : [],
    permissions: (connection?.scopes ?? []).map(scopeInWords),
    refusedCall: connection?.refusedCall ?? null,
    // The keeper comes back for the verdict at next_refresh_at (set when the renewal was refused).
    checking:
      connection?.suspectedAt && connection.status !== "needs_reconnect"
        ? { since: connection.suspectedAt, dueAt: connection.nextRefreshAt ?? connection.suspectedAt }
        : null,
  };
}

/** An install: one Pipedrive user in one company (for this app). */
export type Install = { companyId: number; pipedriveUserId: number };

/** The workspaces that hold this install. */
export async function installHolders(install: Install): Promise<string[]> {
  const rows = await db().pipedriveConnection.findMany({
    where: { companyId: install.companyId, pipedriveUserId: install.pipedriveUserId },
    select: { tenantId: true },
  });
  return rows.map((row) => row.tenantId);
}

/** The install this workspace holds, with the names an admin recognises; null when nothing is connected. */
export async function connectedAs(
  tenantId: string,
): Promise<(Install & { pipedriveUserName: string; companyName: string }) | null> {
  return db().pipedriveConnection.findUnique({
    where: { tenantId },
    select: { companyId: true, pipedriveUserId: true, pipedriveUserName: true, companyName: true },
  });
}

export type AuditEntry = {
  id: string;
  event: string;
  createdAt: Date;
  detail: Record<string, unknown>;
  /** Who did it: a user of this workspace, or null for Pipedrive and the CRM itself. */
  actorName: string | null;
};

/** This workspace's audit trail, newest first; `before` pages back from an entry's id. */
export async function auditEvents(
  tenantId: string,
  page: { take: number; before?: string | null },
): Promise<AuditEntry[]> {
  const { rows } = await sql().query<{
    id: string;
    event: string;
    created_at: Date;
    detail: Record<string, unknown> | null;
    actor_name: string | null;
  }>(
    `SELECT e.id::text, e.event, e.created_at, e.detail, u.name AS actor_name
     FROM pipedrive_audit_events e LEFT JOIN users u ON u.id = e.actor_user_id AND u.tenant_id = e.tenant_id
     WHERE e.tenant_id = $1::uuid AND ($2::bigint IS NULL OR e.id < $2::bigint)
     ORDER BY e.id DESC LIMIT $3`,
    [tenantId, page.before ?? null, page.take],
  );
  return rows.map((row) => ({
    id: row.id,
    event: row.event,
    createdAt: row.created_at,
    detail: row.detail ?? {},
    actorName: row.actor_name,
  }));
}

export type Uninstall = { at: Date; pipedriveUserName: string | null };

/** When the app was last uninstalled in Pipedrive, and from whose account, if nothing was connected since. */
export async function lastUninstall(tenantId: string): Promise<Uninstall | null> {
  const { rows } = await sql().query<{ event: string; created_at: Date; user_name: unknown }>(
    `SELECT event, created_at, detail->'pipedriveUserName' AS user_name FROM pipedrive_audit_events
     WHERE tenant_id = $1::uuid AND event IN ('connected', 'reconnected', 'disconnected', 'uninstalled')
     ORDER BY id DESC LIMIT 1`,
    [tenantId],
  );
  const row = rows[0];
  if (row?.event !== "uninstalled") return null;
  return { at: row.created_at, pipedriveUserName: typeof row.user_name === "string" ? row.user_name : null };
}
