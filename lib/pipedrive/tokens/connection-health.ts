import "server-only";

import { createHash } from "node:crypto";

import type pg from "pg";

import { db, inTransaction, sql, type Tx } from "../../db.ts";
import type { Prisma } from "../../generated/prisma/client.ts";
import type { TokenSet } from "../oauth-client.ts";
import type { PipedriveMe } from "../schemas.ts";
import type { TokenRow } from "./contract-store.ts";
import { expiresAt, NEEDS_RECONNECT_RECHECK_MS, type ConnectionStatus } from "./policy.ts";

// The one writer of pipedrive_connections (a connection's health and schedule) and of the audit
// trail. Each state change and its audit event are written together; nothing here holds a token.

export type AuditEvent =
  | "connected"
  | "reconnected"
  | "disconnected"
  | "uninstalled"
  | "refresh_failed"
  | "recovered"
  | "revoke_failed"
  | "needs_permissions"
  | "subscription_lapsed"
  | "access_forbidden"
  | "connect_refused";

/** What the admin reads (plain words), and what support reads in the audit trail. */
export type NeedsReconnectReason = { message: string; detail: string };

export type TokenPair = Pick<TokenRow, "refreshToken" | "accessToken">;

/**
 * What the row held when Pipedrive refused its refresh token. Both tokens count: a writer that
 * refreshed with the same refresh token (Pipedrive does not rotate it) still changes the access
 * token, and proves the grant alive.
 */
export function fingerprint(tokens: TokenPair): string {
  return createHash("sha256").update(`${tokens.refreshToken}\u0000${tokens.accessToken}`).digest("hex");
}

/** The row still holds exactly what Pipedrive last refused. */
export function isKnownRejected(row: Pick<TokenRow, "rejectedHash" | "refreshToken" | "accessToken">): boolean {
  return row.rejectedHash !== null && row.rejectedHash === fingerprint(row);
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

/** Remembers that Pipedrive refused this row's refresh token, without judging the grant yet. */
export async function recordRejected(client: pg.PoolClient, tenantId: string, tokens: TokenPair): Promise<void> {
  await client.query(`UPDATE pipedrive_connections SET rejected_refresh_token_hash = $2 WHERE tenant_id = $1::uuid`, [
    tenantId,
    fingerprint(tokens),
  ]);
}

/**
 * A refresh worked: the grant is alive. Sets the status the renewal policy decided, the granted
 * scopes when the answer named them, and the next visit; audits a change of state.
 */
export async function markRefreshed(
  client: pg.PoolClient,
  tenantId: string,
  change: { status: ConnectionStatus; scopes: string[] | null; now: Date; nextRefreshAt: Date },
): Promise<{ recovered: boolean }> {
  const { rows } = await client.query<{ was: ConnectionStatus }>(
    `UPDATE pipedrive_connections c SET status = $4::pipedrive_connection_status, scopes = COALESCE($5::text[], c.scopes),
            rejected_refresh_token_hash = NULL, suspected_at = NULL, last_refreshed_at = $2, updated_at = $2, next_refresh_at = $3,
            last_error = CASE WHEN $4 = 'connected' THEN NULL ELSE c.last_error END,
            last_error_at = CASE WHEN $4 = 'connected' THEN NULL ELSE c.last_error_at END
     FROM (SELECT status FROM pipedrive_connections WHERE tenant_id = $1::uuid) AS before
     WHERE c.tenant_id = $1::uuid
     RETURNING before.status::text AS was`,
    [tenantId, change.now, change.nextRefreshAt, change.status, change.scopes],
  );
  const was = rows[0]?.was;
  if (was === undefined || was === change.status) return { recovered: false };
  if (change.status === "connected") {
    await auditWith(client, tenantId, "recovered", { reason: `a refresh worked (was ${was})` });
    return { recovered: was === "needs_reconnect" };
  }
  if (change.status === "needs_permissions") {
    await auditWith(client, tenantId, "needs_permissions", { scopes: change.scopes });
  }
  return { recovered: false };
}

/**
 * Pipedrive's API refused a call for the company (402) or the user (403): lookups pause and
 * the keeper looks again hourly. Audited once per change.
 */
export async function markApiRefused(
  tenantId: string,
  status: "subscription_lapsed" | "access_forbidden",
  detail: string,
  now: Date,
): Promise<boolean> {
  return withAudit(
    `UPDATE pipedrive_connections SET status = $2::pipedrive_connection_status, last_error = $3, last_error_at = $4,
            updated_at = $4, next_refresh_at = $5
     WHERE tenant_id = $1::uuid AND status IN ('connected', 'needs_permissions')`,
    [tenantId, status, detail.slice(0, 500), now, new Date(now.getTime() + NEEDS_RECONNECT_RECHECK_MS)],
    { tenantId, event: status, detail: { reason: detail.slice(0, 200) } },
  );
}

/** A call worked again after Pipedrive had refused them (402, 403). */
export async function markApiWorks(tenantId: string, now: Date): Promise<boolean> {
  return withAudit(
    `UPDATE pipedrive_connections SET status = 'connected', last_error = NULL, last_error_at = NULL, updated_at = $2
     WHERE tenant_id = $1::uuid AND status IN ('subscription_lapsed', 'access_forbidden')`,
    [tenantId, now],
    { tenantId, event: "recovered", detail: { reason: "a call to Pipedrive worked again" } },
  );
}

/** One state change and its audit event, together. */
async function withAudit(
  text: string,
  values: unknown[],
  audit: { tenantId: string; event: AuditEvent; detail: Record<string, unknown> },
): Promise<boolean> {
  const { rows } = await sql().query<{ changed: number }>(
    `WITH changed AS (${text} RETURNING tenant_id),
     event AS (INSERT INTO pipedrive_audit_events (tenant_id, event, detail)
               SELECT tenant_id, $${values.length + 1}, $${values.length + 2}::jsonb FROM changed)
     SELECT count(*)::int AS changed FROM changed`,
    [...values, audit.event, JSON.stringify(audit.detail)],
  );
  return (rows[0]?.changed ?? 0) > 0;
}

/**
 * Pipedrive refused the row's refresh token and nobody has moved the row on: not a verdict yet.
 * Callers fail at once; admins are told only if the keeper, at `confirmAt`, finds the row
 * still holding it. The first suspicion's time is kept.
 */
export async function markSuspected(client: pg.PoolClient, tenantId: string, now: Date, confirmAt: Date) {
  await client.query(
    `UPDATE pipedrive_connections SET suspected_at = COALESCE(suspected_at, $2), next_refresh_at = $3
     WHERE tenant_id = $1::uuid AND status <> 'needs_reconnect'`,
    [tenantId, now, confirmAt],
  );
}

/** The row moved on after a refusal (another writer's rotation landed): nothing to confirm. */
export async function clearSuspicion(client: pg.PoolClient, tenantId: string) {
  await client.query(
    `UPDATE pipedrive_connections SET suspected_at = NULL, rejected_refresh_token_hash = NULL WHERE tenant_id = $1::uuid`,
    [tenantId],
  );
}

/** Marks needs_reconnect if not marked yet; audits once. */
export async function markNeedsReconnect(
  client: pg.PoolClient,
  tenantId: string,
  tokens: TokenPair | null,
  reason: NeedsReconnectReason,
  now: Date,
): Promise<boolean> {
  const { rowCount } = await client.query(
    `UPDATE pipedrive_connections SET status = 'needs_reconnect', last_error = $2, last_error_at = $3, updated_at = $3,
            rejected_refresh_token_hash = COALESCE($4, rejected_refresh_token_hash), next_refresh_at = $5, suspected_at = NULL
     WHERE tenant_id = $1::uuid AND status <> 'needs_reconnect'`,
    [
      tenantId,
      reason.message.slice(0, 500),
      now,
      tokens === null ? null : fingerprint(tokens),
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
 * Writes a connection: the contract row (one upsert), its metadata and the audit event, in one
 * statement. An install (one Pipedrive user in one company) belongs to one workspace: under a
 * lock on the install, a workspace other than this one holding it wins and nothing is written.
 */
export async function saveConnection(input: {
  tenantId: string;
  tokens: TokenSet & { refreshToken: string; apiHost: string };
  me: PipedriveMe;
  status: "connected" | "needs_permissions";
  actor: { id: string; name: string };
  now: Date;
  /** When the keeper should first renew it. */
  nextRefreshAt: Date;
}): Promise<{ saved: "connected" | "reconnected" } | { heldBy: string }> {
  const { tenantId, tokens, me, status, actor, now, nextRefreshAt } = input;
  const detail = JSON.stringify({
    companyId: me.company_id,
    companyName: me.company_name,
    pipedriveUserId: me.id,
    scopes: tokens.scopes,
  });
  const scopes = tokens.scopes ?? [];
  // Plain pg, not Prisma: this runs on every connect (npm run bench, scenario 1).
  return inTransaction(sql(), async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock($1::int, hashtext($2))`, [
      INSTALL_LOCK,
      `${me.company_id}:${me.id}`,
    ]);
    const holder = await client.query<{ tenant_id: string }>(
      `SELECT tenant_id::text FROM pipedrive_connections
       WHERE company_id = $1 AND pipedrive_user_id = $2 AND tenant_id <> $3::uuid LIMIT 1`,
      [me.company_id, me.id, tenantId],
    );
    if (holder.rows[0]) return { heldBy: holder.rows[0].tenant_id };
    // xmax = 0 tells a fresh insert from a replaced row.
    const saved = await client.query<{ inserted: boolean }>(
      `WITH token AS (
        INSERT INTO lead_pipedrive_integrations (tenant_id, access_token, refresh_token, expires_at, api_domain)
        VALUES ($1::uuid, $2, $3, $4, $5)
        ON CONFLICT (tenant_id) DO UPDATE SET
          access_token = EXCLUDED.access_token, refresh_token = EXCLUDED.refresh_token,
          expires_at = EXCLUDED.expires_at, api_domain = EXCLUDED.api_domain
        RETURNING (xmax = 0) AS inserted
      ), meta AS (
        INSERT INTO pipedrive_connections (tenant_id, status, company_id, company_name, company_domain, pipedrive_user_id,
          pipedrive_user_name, scopes, connected_by_user_id, connected_by_name, connected_at, last_error, last_error_at, updated_at, next_refresh_at)
        VALUES ($1::uuid, $6::pipedrive_connection_status, $7, $8, $9, $10, $11, $12::text[], $13::uuid, $14, $15, NULL, NULL, $15, $16)
        ON CONFLICT (tenant_id) DO UPDATE SET
          status = EXCLUDED.status, company_id = EXCLUDED.company_id, company_name = EXCLUDED.company_name,
          company_domain = EXCLUDED.company_domain, pipedrive_user_id = EXCLUDED.pipedrive_user_id,
          pipedrive_user_name = EXCLUDED.pipedrive_user_name, scopes = EXCLUDED.scopes,
          connected_by_user_id = EXCLUDED.connected_by_user_id, connected_by_name = EXCLUDED.connected_by_name,
          connected_at = EXCLUDED.connected_at, last_error = NULL, last_error_at = NULL, updated_at = EXCLUDED.updated_at,
          rejected_refresh_token_hash = NULL, suspected_at = NULL, last_refreshed_at = NULL, next_refresh_at = EXCLUDED.next_refresh_at
      ), event AS (
        INSERT INTO pipedrive_audit_events (tenant_id, actor_user_id, event, detail)
        SELECT $1::uuid, $13::uuid,
          CASE WHEN NOT inserted THEN 'reconnected' ELSE $18 END,
          $17::jsonb
        FROM token
      )
      SELECT inserted FROM token`,
      [
        tenantId,
        tokens.accessToken,
        tokens.refreshToken,
        expiresAt(now, tokens.expiresInSeconds),
        tokens.apiHost,
        status,
        me.company_id,
        me.company_name,
        me.company_domain,
        me.id,
        me.name,
        scopes,
        actor.id,
        actor.name,
        now,
        nextRefreshAt,
        detail,
        status === "needs_permissions" ? "needs_permissions" : "connected",
      ],
    );
    return { saved: saved.rows[0]?.inserted ? "connected" : "reconnected" };
  });
}

// Any 32-bit key of our own for install locks; the keeper's setup and Prisma's migrate use others.
const INSTALL_LOCK = 7_207_002;

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
