import "server-only";

import type pg from "pg";

import { inRefreshTransaction, sql } from "../../db.ts";
import type { TokenSet } from "../client/oauth-client.ts";
import type { ConnectionStatus } from "../connection/lifecycle.ts";
import { expiresAt } from "./policy.ts";

// The shared contract table, lead_pipedrive_integrations, read with our health beside it.
// Every query names the tenant. The lead-enrichment service writes the same rows without taking
// our lock, so nothing here assumes we are the only writer.

export type { ConnectionStatus } from "../connection/lifecycle.ts";

export type TokenRow = {
  tenantId: string;
  accessToken: string;
  refreshToken: string;
  expiresAt: Date;
  /** api_domain exactly as stored: usually a bare host, sometimes a URL another writer left. */
  storedApiDomain: string;
  /** null when the row was written without our metadata (e.g. by another service). */
  status: ConnectionStatus | null;
  /** Fingerprint of the token pair the row held when Pipedrive last refused its refresh token. */
  rejectedHash: string | null;
  /** When that refusal began to await confirmation (connection-store's markSuspected). */
  suspectedAt: Date | null;
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
  suspected_at?: Date | null;
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
  suspectedAt: raw.suspected_at ?? null,
  refreshTokenUsedAt: raw.refresh_token_used_at ?? null,
  blockedUntil: raw.blocked_until ?? null,
});

/** The hot path: token and connection health in one round trip, as a named prepared statement. */
export async function readToken(tenantId: string): Promise<TokenRow | null> {
  const { rows } = await sql().query<RawRow>({
    name: "pipedrive-read-token",
    text: `SELECT i.tenant_id, i.access_token, i.refresh_token, i.expires_at, i.api_domain,
                  c.status::text AS status, c.rejected_refresh_token_hash, c.suspected_at, r.blocked_until
           FROM lead_pipedrive_integrations i
           LEFT JOIN pipedrive_connections c ON c.tenant_id = i.tenant_id
           LEFT JOIN pipedrive_rate_limits r
             ON r.api_host = pipedrive_bare_host(i.api_domain) AND r.blocked_until > now()
           WHERE i.tenant_id = $1::uuid`,
    values: [tenantId],
  });
  return rows[0] ? toRow(rows[0]) : null;
}

/** Just the tokens, to see whether another writer has moved the row on. */
export async function readTokenPair(tenantId: string): Promise<{ refreshToken: string; accessToken: string } | null> {
  const { rows } = await sql().query<{ refresh_token: string; access_token: string }>({
    name: "pipedrive-read-token-pair",
    text: `SELECT refresh_token, access_token FROM lead_pipedrive_integrations WHERE tenant_id = $1::uuid`,
    values: [tenantId],
  });
  return rows[0] ? { refreshToken: rows[0].refresh_token, accessToken: rows[0].access_token } : null;
}

/** The row's expiry with what the keeper schedules by, or null when the tenant is not connected. */
export async function readSchedule(
  tenantId: string,
): Promise<{ expiresAt: Date; status: ConnectionStatus; refreshTokenUsedAt: Date } | null> {
  const { rows } = await sql().query<{ expires_at: Date; status: ConnectionStatus; used_at: Date }>(
    `SELECT i.expires_at, c.status::text AS status, COALESCE(c.last_refreshed_at, c.connected_at) AS used_at
     FROM pipedrive_connections c JOIN lead_pipedrive_integrations i ON i.tenant_id = c.tenant_id
     WHERE c.tenant_id = $1::uuid`,
    [tenantId],
  );
  const row = rows[0];
  return row ? { expiresAt: row.expires_at, status: row.status, refreshTokenUsedAt: row.used_at } : null;
}

/**
 * Writes the bare host over a row someone left with a scheme, so their next call works too.
 * Guarded by what we read: a newer write by anyone wins.
 */
export async function repairApiDomain(tenantId: string, read: string, bareHost: string): Promise<boolean> {
  const { rowCount } = await sql().query(
    `UPDATE lead_pipedrive_integrations SET api_domain = $3 WHERE tenant_id = $1::uuid AND api_domain = $2`,
    [tenantId, read, bareHost],
  );
  return rowCount === 1;
}

/**
 * The keeper's pass over every row: an allowed Pipedrive host another writer stored as a URL
 * goes back to the bare host, so that writer's next call works too. A host nobody may call is
 * left as it is, for the page to say so. How many rows it repaired.
 */
export async function repairApiDomains(): Promise<number> {
  const { rowCount } = await sql().query(
    `UPDATE lead_pipedrive_integrations SET api_domain = pipedrive_allowed_api_host(api_domain)
     WHERE api_domain <> pipedrive_bare_host(api_domain) AND pipedrive_allowed_api_host(api_domain) IS NOT NULL`,
  );
  return rowCount ?? 0;
}

/**
 * Whether any workspace's row holds this refresh token: the one question about a grant we can
 * answer without knowing whose it is. Across tenants on purpose, and it returns nothing else.
 */
export async function isRefreshTokenHeld(refreshToken: string): Promise<boolean> {
  const { rowCount } = await sql().query(`SELECT 1 FROM lead_pipedrive_integrations WHERE refresh_token = $1 LIMIT 1`, [
    refreshToken,
  ]);
  return (rowCount ?? 0) > 0;
}

/** The refresh token, for revoking it before the row goes. */
export async function getRefreshToken(tenantId: string): Promise<string | null> {
  return (await readTokenPair(tenantId))?.refreshToken ?? null;
}

export type Locked = { row: TokenRow | null; client: pg.PoolClient };

/**
 * Runs `work` in a transaction holding the tenant's row lock, on the refresh pool. Every
 * refresher of ours, in any process, queues here. The row and our status are read after the
 * lock is granted, in separate statements, so a waiter sees what the holder committed.
 */
export function withLockedToken<T>(tenantId: string, work: (locked: Locked) => Promise<T>): Promise<T> {
  return inRefreshTransaction(async (client) => work({ row: await lockRow(client, tenantId), client }));
}

async function lockRow(client: pg.PoolClient, tenantId: string): Promise<TokenRow | null> {
  const locked = await client.query<Omit<RawRow, "status" | "rejected_refresh_token_hash" | "suspected_at">>(
    `SELECT tenant_id, access_token, refresh_token, expires_at, api_domain
     FROM lead_pipedrive_integrations WHERE tenant_id = $1::uuid FOR UPDATE`,
    [tenantId],
  );
  const token = locked.rows[0];
  if (!token) return null;
  // A statement of its own: under READ COMMITTED it sees what was committed while we queued.
  const health = await client.query<
    Pick<RawRow, "status" | "rejected_refresh_token_hash" | "suspected_at" | "refresh_token_used_at">
  >(
    `SELECT status::text AS status, rejected_refresh_token_hash, suspected_at, COALESCE(last_refreshed_at, connected_at) AS refresh_token_used_at
     FROM pipedrive_connections WHERE tenant_id = $1::uuid`,
    [tenantId],
  );
  const h = health.rows[0];
  return toRow({
    ...token,
    status: h?.status ?? null,
    rejected_refresh_token_hash: h?.rejected_refresh_token_hash ?? null,
    suspected_at: h?.suspected_at ?? null,
    refresh_token_used_at: h?.refresh_token_used_at ?? null,
  });
}

/**
 * Access token, refresh token, expiry and host in one UPDATE, as Pipedrive requires. A refresh
 * answer without api_domain or refresh_token keeps the stored one.
 */
export async function writeRefreshedTokens(
  locked: Locked,
  tokens: TokenSet & { apiHost: string },
  now: Date,
): Promise<void> {
  const row = locked.row;
  if (!row) throw new Error("writeRefreshedTokens needs a locked row");
  await locked.client.query(
    `UPDATE lead_pipedrive_integrations SET access_token = $2, refresh_token = $3, expires_at = $4, api_domain = $5 WHERE tenant_id = $1::uuid`,
    [
      row.tenantId,
      tokens.accessToken,
      tokens.refreshToken ?? row.refreshToken,
      expiresAt(now, tokens.expiresInSeconds),
      tokens.apiHost,
    ],
  );
}

/**
 * Another exchange for an install this workspace holds may have replaced the install's whole
 * token set at Pipedrive (killing the old one): the row takes the new set. Same set: untouched.
 */
export async function adoptTokenSet(
  tenantId: string,
  tokens: TokenSet & { refreshToken: string; apiHost: string },
  now: Date,
): Promise<boolean> {
  return withLockedToken(tenantId, async (locked) => {
    if (!locked.row || locked.row.refreshToken === tokens.refreshToken) return false;
    await writeRefreshedTokens(locked, tokens, now);
    return true;
  });
}

/**
 * Saves a grant's tokens in the caller's transaction (a connect saves its metadata beside them).
 * Returns whether the row is new.
 */
export async function upsertContractRow(
  client: pg.PoolClient,
  tenantId: string,
  tokens: { accessToken: string; refreshToken: string; expiresAt: Date; apiHost: string },
): Promise<boolean> {
  const { rows } = await client.query<{ inserted: boolean }>(
    `INSERT INTO lead_pipedrive_integrations (tenant_id, access_token, refresh_token, expires_at, api_domain)
     VALUES ($1::uuid, $2, $3, $4, $5)
     ON CONFLICT (tenant_id) DO UPDATE SET
       access_token = EXCLUDED.access_token, refresh_token = EXCLUDED.refresh_token,
       expires_at = EXCLUDED.expires_at, api_domain = EXCLUDED.api_domain
     RETURNING (xmax = 0) AS inserted`,
    [tenantId, tokens.accessToken, tokens.refreshToken, tokens.expiresAt, tokens.apiHost],
  );
  return rows[0]!.inserted;
}

/** Deletes the contract row in the caller's transaction; whether there was one. */
export async function deleteContractRow(client: pg.PoolClient, tenantId: string): Promise<boolean> {
  const { rowCount } = await client.query(`DELETE FROM lead_pipedrive_integrations WHERE tenant_id = $1::uuid`, [
    tenantId,
  ]);
  return (rowCount ?? 0) > 0;
}
