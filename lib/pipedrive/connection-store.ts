import "server-only";

import { db } from "../db.ts";
import { allowedApiHost, toBareHost, type HostPolicy } from "./api-domain.ts";
import { companyBlockedUntil } from "./company-limit-store.ts";

// What the settings page and the uninstall notice read about a connection. Every write to
// these tables goes through tokens/connection-health.ts.

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

/** What the settings page shows; null when the tenant has no token row. */
export async function getConnectionView(
  tenantId: string,
  options: { hosts: HostPolicy; now: Date },
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
  };
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
