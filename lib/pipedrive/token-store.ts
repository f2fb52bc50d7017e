import { db, sql, type Tx } from "../db.ts";
import { toBareHost } from "./api-domain.ts";
import type { TokenSet } from "./oauth-client.ts";

// The shared contract table, lead_pipedrive_integrations. Every query names the tenant.

export type TokenRow = {
  tenantId: string;
  accessToken: string;
  refreshToken: string;
  expiresAt: Date;
  /** Bare host, whatever form the row was written in. */
  apiHost: string;
  status: "connected" | "needs_reconnect" | null;
};

type RawRow = {
  tenant_id: string;
  access_token: string;
  refresh_token: string;
  expires_at: Date;
  api_domain: string;
  status: "connected" | "needs_reconnect" | null;
};

const toRow = (raw: RawRow): TokenRow => ({
  tenantId: raw.tenant_id,
  accessToken: raw.access_token,
  refreshToken: raw.refresh_token,
  expiresAt: raw.expires_at,
  apiHost: toBareHost(raw.api_domain),
  status: raw.status,
});

/** The hot path: token and connection health in one round trip, as a named prepared statement. */
export async function readToken(tenantId: string): Promise<TokenRow | null> {
  const { rows } = await sql().query<RawRow>({
    name: "pipedrive-read-token",
    text: `SELECT i.tenant_id, i.access_token, i.refresh_token, i.expires_at, i.api_domain, c.status::text AS status
           FROM lead_pipedrive_integrations i
           LEFT JOIN pipedrive_connections c ON c.tenant_id = i.tenant_id
           WHERE i.tenant_id = $1::uuid`,
    values: [tenantId],
  });
  return rows[0] ? toRow(rows[0]) : null;
}

/**
 * Runs `work` in a transaction holding the row lock. Every refresher, in any process, queues
 * here; whoever comes second reads the first one's result. The lock is held across the HTTP
 * call to Pipedrive, so waiters must outlast its retries.
 */
export function withLockedToken<T>(tenantId: string, work: (row: TokenRow | null, tx: Tx) => Promise<T>): Promise<T> {
  return db().$transaction(async (tx) => work(await readTokenForUpdate(tx, tenantId), tx), { timeout: 60_000, maxWait: 60_000 });
}

async function readTokenForUpdate(tx: Tx, tenantId: string): Promise<TokenRow | null> {
  const rows = await tx.$queryRaw<RawRow[]>`
    SELECT i.tenant_id, i.access_token, i.refresh_token, i.expires_at, i.api_domain, c.status::text AS status
    FROM lead_pipedrive_integrations i
    LEFT JOIN pipedrive_connections c ON c.tenant_id = i.tenant_id
    WHERE i.tenant_id = ${tenantId}::uuid
    FOR UPDATE OF i`;
  return rows[0] ? toRow(rows[0]) : null;
}

/** Access token, refresh token, expiry and host in one UPDATE, as Pipedrive requires. */
export async function writeRefreshedTokens(tx: Tx, tenantId: string, tokens: TokenSet, keptRefreshToken: string, now: Date) {
  await tx.$executeRaw`
    UPDATE lead_pipedrive_integrations
    SET access_token = ${tokens.accessToken}, refresh_token = ${tokens.refreshToken ?? keptRefreshToken},
        expires_at = ${expiresAt(now, tokens.expiresInSeconds)}, api_domain = ${tokens.apiHost}
    WHERE tenant_id = ${tenantId}::uuid`;
}

export function expiresAt(now: Date, expiresInSeconds: number): Date {
  return new Date(now.getTime() + expiresInSeconds * 1000);
}
