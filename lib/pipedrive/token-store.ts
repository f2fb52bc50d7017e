import { createHash } from "node:crypto";
import type pg from "pg";
import { inRefreshTransaction, sql } from "../db.ts";
import { describe } from "../errors.ts";
import { log } from "../log.ts";
import type { TokenSet } from "./oauth-client.ts";

// The shared contract table, lead_pipedrive_integrations, with our own health columns beside
// it. Every query names the tenant. The lead-enrichment service writes the same rows without
// taking our lock, so nothing here assumes we are the only writer.

export type ConnectionStatus = "connected" | "needs_reconnect";

export type TokenRow = {
  tenantId: string;
  accessToken: string;
  refreshToken: string;
  expiresAt: Date;
  /** api_domain exactly as stored: usually a bare host, sometimes a URL another writer left. */
  storedApiDomain: string;
  /** null when the row was written without our metadata (e.g. by another service). */
  status: ConnectionStatus | null;
  /** sha256 of the refresh token Pipedrive last refused, if any. */
  rejectedHash: string | null;
  /** When our refresh token was last used (or granted): Pipedrive drops it after 60 idle days. */
  refreshTokenUsedAt: Date | null;
  /** Pipedrive asked every caller to leave this company alone until then. */
  blockedUntil: Date | null;
};

type RawRow = {
  tenant_id: string;
  access_token: string;
  refresh_token: string;
  expires_at: Date;
  api_domain: string;
  status: ConnectionStatus | null;
  rejected_refresh_token_hash: string | null;
  refresh_token_used_at?: Date | null;
  blocked_until?: Date | null;
};

const toRow = (raw: RawRow): TokenRow => ({
  tenantId: raw.tenant_id,
  accessToken: raw.access_token,
  refreshToken: raw.refresh_token,
  expiresAt: raw.expires_at,
  storedApiDomain: raw.api_domain,
  status: raw.status,
  rejectedHash: raw.rejected_refresh_token_hash,
  refreshTokenUsedAt: raw.refresh_token_used_at ?? null,
  blockedUntil: raw.blocked_until ?? null,
});

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** The refresh token in the row is one Pipedrive already refused. */
export function isKnownRejected(row: TokenRow): boolean {
  return row.rejectedHash !== null && row.rejectedHash === hashToken(row.refreshToken);
}

/** The hot path: token and connection health in one round trip, as a named prepared statement. */
export async function readToken(tenantId: string): Promise<TokenRow | null> {
  const { rows } = await sql().query<RawRow>({
    name: "pipedrive-read-token",
    text: `SELECT i.tenant_id, i.access_token, i.refresh_token, i.expires_at, i.api_domain,
                  c.status::text AS status, c.rejected_refresh_token_hash, r.blocked_until
           FROM lead_pipedrive_integrations i
           LEFT JOIN pipedrive_connections c ON c.tenant_id = i.tenant_id
           LEFT JOIN pipedrive_rate_limits r ON r.api_host = i.api_domain AND r.blocked_until > now()
           WHERE i.tenant_id = $1::uuid`,
    values: [tenantId],
  });
  return rows[0] ? toRow(rows[0]) : null;
}

/** Tells every process and instance to leave a company's API alone until `until`. */
export async function blockCompany(apiHost: string, until: Date, reason: string): Promise<void> {
  await sql().query(
    `INSERT INTO pipedrive_rate_limits (api_host, blocked_until, reason, updated_at) VALUES ($1, $2, $3, now())
     ON CONFLICT (api_host) DO UPDATE SET blocked_until = GREATEST(pipedrive_rate_limits.blocked_until, EXCLUDED.blocked_until),
       reason = EXCLUDED.reason, updated_at = now()`,
    [apiHost, until, reason.slice(0, 200)],
  );
}

/** Just the refresh token, to see whether another writer has rotated it. */
export async function readRefreshToken(tenantId: string): Promise<string | null> {
  const { rows } = await sql().query<{ refresh_token: string }>({
    name: "pipedrive-read-refresh-token",
    text: `SELECT refresh_token FROM lead_pipedrive_integrations WHERE tenant_id = $1::uuid`,
    values: [tenantId],
  });
  return rows[0]?.refresh_token ?? null;
}

/**
 * Writes the bare host over a row someone left with a scheme, so their next call works too.
 * Guarded by what we read: a newer write by anyone wins.
 */
export async function repairApiDomain(tenantId: string, read: string, bareHost: string): Promise<boolean> {
  const { rowCount } = await sql().query(`UPDATE lead_pipedrive_integrations SET api_domain = $3 WHERE tenant_id = $1::uuid AND api_domain = $2`, [
    tenantId,
    read,
    bareHost,
  ]);
  return rowCount === 1;
}

export type LockedTokens = {
  row: TokenRow | null;
  /** Stores a refreshed token set, marks the connection healthy; true if it had needed a reconnect. */
  saveRefreshed: (tokens: TokenSet, now: Date, nextRefreshAt: Date) => Promise<{ recovered: boolean }>;
  /** Remembers that Pipedrive refused the row's refresh token, without judging the grant yet. */
  recordRejected: () => Promise<void>;
  /** Marks needs_reconnect if not marked yet; audits once. */
  markNeedsReconnect: (reason: NeedsReconnectReason, now: Date) => Promise<void>;
};

/** What the admin reads (plain words), and what support reads in the audit trail. */
export type NeedsReconnectReason = { message: string; detail: string };

/**
 * Runs `work` in a transaction holding the tenant's row lock, on the refresh pool. Every
 * refresher of ours, in any process, queues here. The row and our status are read after the
 * lock is granted, in separate statements, so a waiter sees what the holder committed.
 */
export function withLockedToken<T>(tenantId: string, work: (locked: LockedTokens) => Promise<T>): Promise<T> {
  return inRefreshTransaction(async (client) => {
    const row = await lockRow(client, tenantId);
    return work({
      row,
      saveRefreshed: (tokens, now, nextRefreshAt) => saveRefreshed(client, tenantId, tokens, row, now, nextRefreshAt),
      recordRejected: async () => {
        if (!row) return;
        await client.query(`UPDATE pipedrive_connections SET rejected_refresh_token_hash = $2 WHERE tenant_id = $1::uuid`, [tenantId, hashToken(row.refreshToken)]);
      },
      markNeedsReconnect: (reason, now) => markNeedsReconnect(client, tenantId, row, reason, now),
    });
  });
}

async function lockRow(client: pg.PoolClient, tenantId: string): Promise<TokenRow | null> {
  const locked = await client.query<Omit<RawRow, "status" | "rejected_refresh_token_hash">>(
    `SELECT tenant_id, access_token, refresh_token, expires_at, api_domain
     FROM lead_pipedrive_integrations WHERE tenant_id = $1::uuid FOR UPDATE`,
    [tenantId],
  );
  const token = locked.rows[0];
  if (!token) return null;
  // A statement of its own: under READ COMMITTED it sees what was committed while we queued.
  const health = await client.query<Pick<RawRow, "status" | "rejected_refresh_token_hash" | "refresh_token_used_at">>(
    `SELECT status::text AS status, rejected_refresh_token_hash, COALESCE(last_refreshed_at, connected_at) AS refresh_token_used_at
     FROM pipedrive_connections WHERE tenant_id = $1::uuid`,
    [tenantId],
  );
  const h = health.rows[0];
  return toRow({ ...token, status: h?.status ?? null, rejected_refresh_token_hash: h?.rejected_refresh_token_hash ?? null, refresh_token_used_at: h?.refresh_token_used_at ?? null });
}

async function saveRefreshed(client: pg.PoolClient, tenantId: string, tokens: TokenSet, row: TokenRow | null, now: Date, nextRefreshAt: Date) {
  if (!row) throw new Error("saveRefreshed needs a locked row");
  // Access token, refresh token, expiry and host in one UPDATE, as Pipedrive requires. A
  // refresh answer without api_domain or refresh_token keeps the stored one.
  await client.query(
    `UPDATE lead_pipedrive_integrations SET access_token = $2, refresh_token = $3, expires_at = $4, api_domain = $5 WHERE tenant_id = $1::uuid`,
    [tenantId, tokens.accessToken, tokens.refreshToken ?? row.refreshToken, expiresAt(now, tokens.expiresInSeconds), tokens.apiHost],
  );
  // Pipedrive has already rotated the refresh token: the old one is dead. Our bookkeeping runs
  // behind a savepoint, so if it fails the new tokens are still committed.
  await client.query("SAVEPOINT bookkeeping");
  try {
    const recovered = await markRefreshed(client, tenantId, now, nextRefreshAt);
    await client.query("RELEASE SAVEPOINT bookkeeping");
    return { recovered };
  } catch (error) {
    await client.query("ROLLBACK TO SAVEPOINT bookkeeping");
    log().error({ tenant: tenantId, error: describe(error) }, "saved refreshed tokens, but not the connection's bookkeeping");
    return { recovered: false };
  }
}

async function markRefreshed(client: pg.PoolClient, tenantId: string, now: Date, nextRefreshAt: Date): Promise<boolean> {
  const { rows } = await client.query<{ was: ConnectionStatus }>(
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

async function markNeedsReconnect(client: pg.PoolClient, tenantId: string, row: TokenRow | null, reason: NeedsReconnectReason, now: Date) {
  const { rowCount } = await client.query(
    `UPDATE pipedrive_connections SET status = 'needs_reconnect', last_error = $2, last_error_at = $3, updated_at = $3,
            rejected_refresh_token_hash = COALESCE($4, rejected_refresh_token_hash),
            next_refresh_at = $3::timestamptz + ${NEEDS_RECONNECT_RECHECK}
     WHERE tenant_id = $1::uuid AND status <> 'needs_reconnect'`,
    [tenantId, reason.message.slice(0, 500), now, row ? hashToken(row.refreshToken) : null],
  );
  if (rowCount) await auditWith(client, tenantId, "refresh_failed", { reason: reason.detail.slice(0, 200) });
}

async function auditWith(client: pg.PoolClient, tenantId: string, event: string, detail: Record<string, unknown>) {
  await client.query(`INSERT INTO pipedrive_audit_events (tenant_id, event, detail) VALUES ($1::uuid, $2, $3::jsonb)`, [tenantId, event, JSON.stringify(detail)]);
}

// A connection that needs a reconnect is looked at again hourly: if another writer has put a
// new refresh token in the row, the keeper tries it and the connection heals.
const NEEDS_RECONNECT_RECHECK = "interval '1 hour'";

/** When the keeper should renew next: before the token enters its window, or before it idles too long. */
export function nextRefreshAt(tokenExpiresAt: Date, refreshTokenUsedAt: Date, keeper: { windowSeconds: number; idleDays: number }): Date {
  return new Date(Math.min(tokenExpiresAt.getTime() - keeper.windowSeconds * 1000, refreshTokenUsedAt.getTime() + keeper.idleDays * 86_400_000));
}

/**
 * Sets the keeper's next visit from the row as it is now (another writer may have renewed it),
 * never sooner than a minute away, so a failing tenant is not retried every scan.
 */
export async function reschedule(tenantId: string, keeper: { windowSeconds: number; idleDays: number }, now: Date): Promise<void> {
  await sql().query(
    `UPDATE pipedrive_connections c SET next_refresh_at = GREATEST($2::timestamptz + interval '1 minute',
       CASE WHEN c.status = 'needs_reconnect' THEN $2::timestamptz + ${NEEDS_RECONNECT_RECHECK}
            ELSE LEAST(i.expires_at - make_interval(secs => $3), COALESCE(c.last_refreshed_at, c.connected_at) + make_interval(days => $4)) END)
     FROM lead_pipedrive_integrations i
     WHERE c.tenant_id = $1::uuid AND i.tenant_id = c.tenant_id`,
    [tenantId, now, keeper.windowSeconds, keeper.idleDays],
  );
}

export function expiresAt(now: Date, expiresInSeconds: number): Date {
  return new Date(now.getTime() + expiresInSeconds * 1000);
}
