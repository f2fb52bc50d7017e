import "server-only";

import { createHash } from "node:crypto";

import type pg from "pg";

import { sql } from "../../db.ts";
import type { TokenSet } from "../client/oauth-client.ts";
import type { PipedriveMe } from "../client/schemas.ts";
import type { ConnectionStatus } from "../connection/lifecycle.ts";
import { auditWith, insertAuditEvent, type AuditEvent } from "./audit-store.ts";
import { DELETE_CONTRACT_ROW, upsertContractRow, type TokenRow } from "./contract-store.ts";
import { expiresAt, NEEDS_RECONNECT_RECHECK_MS } from "./policy.ts";

// The one writer of pipedrive_connections (a connection's health and schedule). Each state change
// and its audit event (audit-store.ts) are written together; nothing here holds a token.

/** Why a grant is judged gone, for support: last_error and the audit detail. The page has its own words. */
export type NeedsReconnectReason = { detail: string };

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
  refused: { detail: string; call: string | null },
  now: Date,
): Promise<boolean> {
  return withAudit(
    `UPDATE pipedrive_connections SET status = $2::pipedrive_connection_status, last_error = $3, last_error_at = $4,
            updated_at = $4, next_refresh_at = $5, refused_call = $6
     WHERE tenant_id = $1::uuid AND status IN ('connected', 'needs_permissions')`,
    [
      tenantId,
      status,
      refused.detail.slice(0, 500),
      now,
      new Date(now.getTime() + NEEDS_RECONNECT_RECHECK_MS),
      refused.call,
    ],
    { tenantId, event: status, detail: { reason: refused.detail.slice(0, 200), call: refused.call } },
  );
}

/** The kind of call Pipedrive's API refused, while the connection is paused by it; null otherwise. */
export async function refusedCallOf(tenantId: string): Promise<string | null> {
  const { rows } = await sql().query<{ refused_call: string | null }>(
    `SELECT refused_call FROM pipedrive_connections
     WHERE tenant_id = $1::uuid AND status IN ('subscription_lapsed', 'access_forbidden')`,
    [tenantId],
  );
  return rows[0]?.refused_call ?? null;
}

/**
 * The call Pipedrive had refused (402, 403) worked again. `call`: the kind that worked; a
 * refusal of another kind stays, since a 403 on one endpoint says nothing of another.
 */
export async function markApiWorks(tenantId: string, call: string | null, now: Date): Promise<boolean> {
  return withAudit(
    `UPDATE pipedrive_connections SET status = 'connected', last_error = NULL, last_error_at = NULL, updated_at = $2,
            refused_call = NULL
     WHERE tenant_id = $1::uuid AND status IN ('subscription_lapsed', 'access_forbidden')
       AND (refused_call IS NULL OR $3::text IS NULL OR refused_call = $3::text)`,
    [tenantId, now, call],
    { tenantId, event: "recovered", detail: { reason: "a call to Pipedrive worked again" } },
  );
}

/** One state change and its audit event, together. The change's `$1` is the tenant. */
async function withAudit(
  text: string,
  values: unknown[],
  audit: { tenantId: string; event: AuditEvent; detail: Record<string, unknown> },
): Promise<boolean> {
  const { rows } = await sql().query<{ changed: number }>(
    `WITH changed AS (${text} RETURNING tenant_id, company_name, pipedrive_user_name),
     event AS (${insertAuditEvent({
       tenant: "$1::uuid",
       actor: "NULL",
       event: `$${values.length + 1}`,
       detail: `$${values.length + 2}::jsonb`,
       named: "changed",
       when: "EXISTS (SELECT 1 FROM changed)",
     })})
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
      reason.detail.slice(0, 500),
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
/** The grant a save replaced: the install it belonged to and the refresh token the row held. */
export type ReplacedGrant = { install: { companyId: number; pipedriveUserId: number }; refreshToken: string | null };

export async function saveConnection(input: {
  tenantId: string;
  tokens: TokenSet & { refreshToken: string; apiHost: string };
  me: PipedriveMe;
  status: "connected" | "needs_permissions";
  actor: { id: string; name: string };
  now: Date;
  /** When the keeper should first renew it. */
  nextRefreshAt: Date;
}): Promise<{ saved: "connected" | "reconnected"; replaced: ReplacedGrant | null } | { heldBy: string }> {
  const { tenantId, tokens, me, status, actor, now, nextRefreshAt } = input;
  const detail = JSON.stringify({
    companyId: me.company_id,
    companyName: me.company_name,
    pipedriveUserId: me.id,
    pipedriveUserName: me.name,
    scopes: tokens.scopes,
  });
  const scopes = tokens.scopes ?? [];
  // Plain pg in three round trips, not Prisma: this runs on every connect (npm run bench, scenario 1).
  const client = await sql().connect();
  try {
    // One round trip for both: a simple query may carry two statements, but no parameters, and
    // the lock's key is two integers Pipedrive's answer was validated to hold.
    await client.query(`BEGIN; SELECT pg_advisory_xact_lock(${INSTALL_LOCK}, hashtext('${installKey(me)}'))`);
    // Under the install lock, in one statement: nobody else holds this install, then the save.
    // Every part reads the snapshot taken after the lock, so `replaced` is the row as it was.
    const { rows } = await client.query<{
      held_by: string | null;
      inserted: boolean | null;
      company_id: number | null;
      pipedrive_user_id: number | null;
      refresh_token: string | null;
    }>(
      `WITH holder AS (
        SELECT tenant_id FROM pipedrive_connections
        WHERE company_id = $7 AND pipedrive_user_id = $10 AND tenant_id <> $1::uuid LIMIT 1
      ), replaced AS (
        SELECT c.company_id, c.pipedrive_user_id, c.pipedrive_user_name, c.company_name, c.status, t.refresh_token
        FROM pipedrive_connections c LEFT JOIN lead_pipedrive_integrations t ON t.tenant_id = c.tenant_id
        WHERE c.tenant_id = $1::uuid
      ), token AS (${upsertContractRow("NOT EXISTS (SELECT 1 FROM holder)")}
      ), meta AS (
        INSERT INTO pipedrive_connections (tenant_id, status, company_id, company_name, company_domain, pipedrive_user_id,
          pipedrive_user_name, scopes, connected_by_user_id, connected_by_name, connected_at, last_error, last_error_at, updated_at, next_refresh_at)
        SELECT $1::uuid, $6::pipedrive_connection_status, $7, $8, $9, $10, $11, $12::text[], $13::uuid, $14, $15, NULL, NULL, $15, $16
        WHERE NOT EXISTS (SELECT 1 FROM holder)
        ON CONFLICT (tenant_id) DO UPDATE SET
          status = EXCLUDED.status, company_id = EXCLUDED.company_id, company_name = EXCLUDED.company_name,
          company_domain = EXCLUDED.company_domain, pipedrive_user_id = EXCLUDED.pipedrive_user_id,
          pipedrive_user_name = EXCLUDED.pipedrive_user_name, scopes = EXCLUDED.scopes,
          connected_by_user_id = EXCLUDED.connected_by_user_id, connected_by_name = EXCLUDED.connected_by_name,
          connected_at = EXCLUDED.connected_at, last_error = NULL, last_error_at = NULL, updated_at = EXCLUDED.updated_at,
          rejected_refresh_token_hash = NULL, suspected_at = NULL, last_refreshed_at = NULL, next_refresh_at = EXCLUDED.next_refresh_at,
          refused_call = NULL
        RETURNING company_name, pipedrive_user_name
      ), event AS (${insertAuditEvent({
        tenant: "$1::uuid",
        actor: "$13::uuid",
        // A grant without a permission lookups need says so, on a reconnect too: the activity log
        // replays to the state it leaves, and the admins are mailed (lifecycle.ts decides it).
        event:
          "CASE WHEN (SELECT NOT inserted FROM token) AND $18 <> 'needs_permissions' THEN 'reconnected' ELSE $18 END",
        // A switch of Pipedrive user says from whom, as well as to whom; a reconnect, what it replaced
        // (the mail a reconnect sends depends on it) and which admin did it.
        detail: `($17::jsonb || jsonb_build_object('by', $14::text)
          || COALESCE((SELECT jsonb_build_object('fromStatus', r.status::text) FROM replaced r), '{}'::jsonb)
          || COALESCE((SELECT jsonb_build_object('fromPipedriveUserId', r.pipedrive_user_id,
              'fromPipedriveUserName', r.pipedrive_user_name, 'fromCompanyName', r.company_name)
            FROM replaced r WHERE r.company_id <> $7 OR r.pipedrive_user_id <> $10), '{}'::jsonb))`,
        named: "meta",
        when: "EXISTS (SELECT 1 FROM token)",
      })}
      )
      SELECT (SELECT tenant_id::text FROM holder) AS held_by, (SELECT inserted FROM token) AS inserted,
        r.company_id, r.pipedrive_user_id, r.refresh_token
      FROM (SELECT 1) AS one LEFT JOIN replaced r ON true`,
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
    await client.query("COMMIT");
    const row = rows[0]!;
    if (row.held_by) return { heldBy: row.held_by };
    const replaced =
      row.company_id === null || row.pipedrive_user_id === null
        ? null
        : {
            install: { companyId: row.company_id, pipedriveUserId: row.pipedrive_user_id },
            refreshToken: row.refresh_token,
          };
    return { saved: row.inserted ? "connected" : "reconnected", replaced };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** The install lock's text key, built only from integers. */
function installKey(me: Pick<PipedriveMe, "company_id" | "id">): string {
  if (!Number.isSafeInteger(me.company_id) || !Number.isSafeInteger(me.id))
    throw new Error("a Pipedrive company or user id is not an integer");
  return `${me.company_id}:${me.id}`;
}

// Any 32-bit key of our own for install locks; the keeper's setup and Prisma's migrate use others.
const INSTALL_LOCK = 7_207_002;

/** Deletes the contract row and its metadata; returns whether anything was connected. */
export async function removeConnection(
  tenantId: string,
  event: "disconnected" | "uninstalled",
  actorUserId: string | null,
  detail: Record<string, unknown>,
): Promise<boolean> {
  const { rows } = await sql().query<{ had: boolean }>(
    `WITH token AS (${DELETE_CONTRACT_ROW}),
     meta AS (DELETE FROM pipedrive_connections WHERE tenant_id = $1::uuid RETURNING company_name, pipedrive_user_name),
     event AS (${insertAuditEvent({
       tenant: "$1::uuid",
       actor: "$2::uuid",
       event: "$3",
       detail: "$4::jsonb",
       named: "meta",
       when: "EXISTS (SELECT 1 FROM token) OR EXISTS (SELECT 1 FROM meta)",
     })})
     SELECT EXISTS (SELECT 1 FROM token) OR EXISTS (SELECT 1 FROM meta) AS had`,
    [tenantId, actorUserId, event, JSON.stringify(detail)],
  );
  return rows[0]?.had ?? false;
}
