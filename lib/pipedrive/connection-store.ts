import "server-only";

import { db } from "../db.ts";
import { allowedApiHost, toBareHost, type HostPolicy } from "./api-domain.ts";
import { companyBlockedUntil } from "./company-limit-store.ts";
import { missingScopes, scopeInWords } from "./scopes.ts";
import type { ConnectionStatus } from "./tokens/policy.ts";

// What the settings page and the uninstall notice read about a connection. Every write to
// these tables goes through tokens/connection-health.ts.

export type ConnectionView = {
  status: ConnectionStatus;
  companyName: string | null;
  companyDomain: string | null;
  pipedriveUserName: string | null;
  pipedriveUserId: number | null;
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
  /** Permissions lookups need that the grant lacks, in plain words. */
  missingPermissions: string[];
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
    hostAllowed: allowedApiHost(token.apiDomain, options.hosts) !== null,
    lastError: connection?.lastError ?? null,
    lastErrorAt: connection?.lastErrorAt ?? null,
    lastRefreshedAt: connection?.lastRefreshedAt ?? null,
    nextRenewalAt: nextRenewal && nextRenewal > options.now ? nextRenewal : null,
    lookupsPausedUntil,
    missingPermissions: connection ? missingScopes(connection.scopes, options.requiredScopes).map(scopeInWords) : [],
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

/** Which install this workspace holds, if our metadata says. */
export async function installOf(tenantId: string): Promise<Install | null> {
  return db().pipedriveConnection.findUnique({
    where: { tenantId },
    select: { companyId: true, pipedriveUserId: true },
  });
}

export async function recentAuditEvents(tenantId: string, take = 10) {
  return db().pipedriveAuditEvent.findMany({
    where: { tenantId },
    orderBy: { id: "desc" },
    take,
    select: { id: true, event: true, createdAt: true, detail: true },
  });
}
