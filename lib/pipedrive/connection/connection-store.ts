import "server-only";

import { createHash } from "node:crypto";

import type pg from "pg";

import { inTransaction, sql } from "../../db.ts";
import type { TokenSet } from "../client/oauth-client.ts";
import type { PipedriveMe } from "../client/schemas.ts";
import { deleteContractRow, upsertContractRow, type TokenRow } from "../tokens/contract-store.ts";
import { expiresAt, NEEDS_RECONNECT_RECHECK_MS } from "../tokens/policy.ts";
import { decide, type ApiRefusal, type ConnectionStatus } from "./lifecycle.ts";
import { applyMove, readState, record } from "./move-store.ts";

// The writers of pipedrive_connections (a connection's health and schedule), as its flows call
// them. Each hands its move to the executor (connection/move-store.ts), which decides it with
// lifecycle.ts and writes the state, its audit event and its mail together; nothing here holds a token.

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
 * A refresh worked: the grant is alive. lifecycle.ts decides the status (a refusal by the API
 * stays until a call works; the answer's scopes decide permissions); the granted scopes, when the
 * answer named them, and the next visit are kept. `recovered`: it healed a needs_reconnect.
 */
export async function markRefreshed(
  client: pg.PoolClient,
  tenantId: string,
  change: { missingScopes: readonly string[] | null; scopes: string[] | null; now: Date; nextRefreshAt: Date },
): Promise<{ recovered: boolean; status: ConnectionStatus | null }> {
  const { before, decision } = await applyMove(client, tenantId, {
    event: { type: "refreshed", missingScopes: change.missingScopes },
    now: change.now,
    bookkeeping: (_was, next) => ({
      ...(change.scopes === null ? {} : { scopes: change.scopes }),
      rejected_refresh_token_hash: null,
      last_refreshed_at: change.now,
      updated_at: change.now,
      next_refresh_at: change.nextRefreshAt,
      ...(next.kind === "present" && next.status === "connected" ? { last_error: null, last_error_at: null } : {}),
    }),
    detail: (was, next) =>
      next.kind === "present" && next.status === "connected"
        ? { reason: `a refresh worked (was ${was.kind === "present" ? was.status : "absent"})` }
        : { scopes: change.scopes },
  });
  const status = decision.next.kind === "present" ? decision.next.status : null;
  return {
    recovered: before.kind === "present" && before.status === "needs_reconnect" && status === "connected",
    status,
  };
}

/**
 * Pipedrive's API refused a call for the company (402) or the user (403): lookups pause and
 * the keeper looks again hourly. Audited once per change.
 */
export async function markApiRefused(
  tenantId: string,
  status: ApiRefusal,
  refused: { detail: string; call: string | null },
  now: Date,
): Promise<boolean> {
  const { applied } = await inTransaction(sql(), (client) =>
    applyMove(client, tenantId, {
      event: { type: "api_refused", refusal: status, call: refused.call },
      now,
      bookkeeping: () => ({
        last_error: refused.detail.slice(0, 500),
        last_error_at: now,
        updated_at: now,
        next_refresh_at: new Date(now.getTime() + NEEDS_RECONNECT_RECHECK_MS),
      }),
      detail: { reason: refused.detail.slice(0, 200), call: refused.call },
    }),
  );
  return applied;
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
 * A call worked while Pipedrive's API had refused some (402, 403). `call`: the kind that
 * worked; lifecycle.ts heals only a refusal of that kind, since a 403 on one endpoint says
 * nothing of another.
 */
export async function markApiWorks(tenantId: string, call: string | null, now: Date): Promise<boolean> {
  const { applied } = await inTransaction(sql(), (client) =>
    applyMove(client, tenantId, {
      event: { type: "api_works", call },
      now,
      bookkeeping: () => ({ last_error: null, last_error_at: null, updated_at: now }),
      detail: { reason: "a call to Pipedrive worked again" },
    }),
  );
  return applied;
}

/**
 * Pipedrive refused the row's refresh token and nobody has moved the row on: not a verdict yet.
 * Callers fail at once; admins are told only if the keeper, at `confirmAt`, finds the row
 * still holding it. The first suspicion's time is kept.
 */
export async function markSuspected(client: pg.PoolClient, tenantId: string, now: Date, confirmAt: Date) {
  await applyMove(client, tenantId, {
    event: { type: "refresh_refused" },
    now,
    bookkeeping: () => ({ next_refresh_at: confirmAt }),
  });
}

/** The row moved on after a refusal (another writer's rotation landed): nothing to confirm. */
export async function clearSuspicion(client: pg.PoolClient, tenantId: string) {
  await applyMove(client, tenantId, {
    event: { type: "row_moved_on" },
    now: new Date(),
    bookkeeping: () => ({ rejected_refresh_token_hash: null }),
  });
}

/** The verdict: the grant is gone. Marks needs_reconnect if not marked yet; audits once. */
export async function markNeedsReconnect(
  client: pg.PoolClient,
  tenantId: string,
  tokens: TokenPair | null,
  reason: NeedsReconnectReason,
  now: Date,
): Promise<boolean> {
  const { applied } = await applyMove(client, tenantId, {
    event: { type: "verdict" },
    now,
    bookkeeping: () => ({
      last_error: reason.detail.slice(0, 500),
      last_error_at: now,
      updated_at: now,
      ...(tokens === null ? {} : { rejected_refresh_token_hash: fingerprint(tokens) }),
      next_refresh_at: new Date(now.getTime() + NEEDS_RECONNECT_RECHECK_MS),
    }),
    detail: { reason: reason.detail.slice(0, 200) },
  });
  return applied;
}

/** The keeper's next visit, computed by the renewal policy. */
export async function setNextVisit(tenantId: string, at: Date): Promise<void> {
  await sql().query(`UPDATE pipedrive_connections SET next_refresh_at = $2 WHERE tenant_id = $1::uuid`, [tenantId, at]);
}

/** The grant a save replaced: the install it belonged to and the refresh token the row held. */
export type ReplacedGrant = { install: { companyId: number; pipedriveUserId: number }; refreshToken: string | null };

/**
 * Writes a connection: the contract row, its metadata, and the move's audit event and mail. An
 * install (one Pipedrive user in one company) belongs to one workspace: under a lock on the
 * install, a workspace other than this one holding it wins and nothing is written.
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
}): Promise<{ kind: "connected" | "reconnected"; replaced: ReplacedGrant | null } | { kind: "held"; by: string }> {
  const { tenantId, tokens, me, status, actor, now, nextRefreshAt } = input;
  return inTransaction(sql(), async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [INSTALL_LOCK, installKey(me)]);
    // A workspace's first connect has no row to lock yet: two at once queue here instead.
    await client.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [FIRST_CONNECT_LOCK, tenantId]);
    const before = await readState(client, tenantId);
    const { rows } = await client.query<{
      held_by: string | null;
      company_id: number | null;
      company_name: string | null;
      pipedrive_user_id: number | null;
      pipedrive_user_name: string | null;
      refresh_token: string | null;
    }>(
      `SELECT (SELECT tenant_id::text FROM pipedrive_connections
               WHERE company_id = $2 AND pipedrive_user_id = $3 AND tenant_id <> $1::uuid LIMIT 1) AS held_by,
              c.company_id, c.company_name, c.pipedrive_user_id, c.pipedrive_user_name, t.refresh_token
       FROM (SELECT 1) AS one
       LEFT JOIN pipedrive_connections c ON c.tenant_id = $1::uuid
       LEFT JOIN lead_pipedrive_integrations t ON t.tenant_id = $1::uuid`,
      [tenantId, me.company_id, me.id],
    );
    const was = rows[0]!;
    if (was.held_by) return { kind: "held", by: was.held_by };
    const decision = decide(
      before,
      { type: "granted", missingScopes: status === "needs_permissions", pipedriveUser: me.id },
      now,
    );
    const inserted = await upsertContractRow(client, tenantId, {
      ...tokens,
      expiresAt: expiresAt(now, tokens.expiresInSeconds),
    });
    await client.query(
      `INSERT INTO pipedrive_connections (tenant_id, status, company_id, company_name, company_domain, pipedrive_user_id,
         pipedrive_user_name, scopes, connected_by_user_id, connected_by_name, connected_at, updated_at, next_refresh_at)
       VALUES ($1::uuid, $2::pipedrive_connection_status, $3, $4, $5, $6, $7, $8::text[], $9::uuid, $10, $11, $11, $12)
       ON CONFLICT (tenant_id) DO UPDATE SET
         status = EXCLUDED.status, company_id = EXCLUDED.company_id, company_name = EXCLUDED.company_name,
         company_domain = EXCLUDED.company_domain, pipedrive_user_id = EXCLUDED.pipedrive_user_id,
         pipedrive_user_name = EXCLUDED.pipedrive_user_name, scopes = EXCLUDED.scopes,
         connected_by_user_id = EXCLUDED.connected_by_user_id, connected_by_name = EXCLUDED.connected_by_name,
         connected_at = EXCLUDED.connected_at, last_error = NULL, last_error_at = NULL, updated_at = EXCLUDED.updated_at,
         rejected_refresh_token_hash = NULL, suspected_at = NULL, last_refreshed_at = NULL,
         next_refresh_at = EXCLUDED.next_refresh_at, refused_call = NULL`,
      [
        tenantId,
        decision.next.kind === "present" ? decision.next.status : status,
        me.company_id,
        me.company_name,
        me.company_domain,
        me.id,
        me.name,
        tokens.scopes ?? [],
        actor.id,
        actor.name,
        now,
        nextRefreshAt,
      ],
    );
    const switched = was.company_id !== null && (was.company_id !== me.company_id || was.pipedrive_user_id !== me.id);
    await record(client, tenantId, decision, {
      actorUserId: actor.id,
      // A switch of Pipedrive user says from whom as well as to whom; a reconnect, what it
      // replaced (the mail a reconnect sends depends on it) and which admin did it.
      detail: {
        companyId: me.company_id,
        companyName: me.company_name,
        pipedriveUserId: me.id,
        pipedriveUserName: me.name,
        scopes: tokens.scopes,
        by: actor.name,
        ...(before.kind === "present" ? { fromStatus: before.status } : {}),
        ...(switched
          ? {
              fromPipedriveUserId: was.pipedrive_user_id,
              fromPipedriveUserName: was.pipedrive_user_name,
              fromCompanyName: was.company_name,
            }
          : {}),
      },
    });
    const replaced =
      was.company_id === null || was.pipedrive_user_id === null
        ? null
        : {
            install: { companyId: was.company_id, pipedriveUserId: was.pipedrive_user_id },
            refreshToken: was.refresh_token,
          };
    return { kind: inserted ? "connected" : "reconnected", replaced };
  });
}

/** The install lock's text key. */
const installKey = (me: Pick<PipedriveMe, "company_id" | "id">): string => `${me.company_id}:${me.id}`;

// Any 32-bit keys of our own; the keeper's setup and Prisma's migrate use others.
const INSTALL_LOCK = 7_207_002;
const FIRST_CONNECT_LOCK = 7_207_003;

/**
 * Deletes the contract row and its metadata; returns whether anything was connected. A contract
 * row another writer left without our metadata goes too, and its removal is logged all the same.
 */
export async function removeConnection(
  tenantId: string,
  event: "disconnected" | "uninstalled",
  actorUserId: string | null,
  detail: Record<string, unknown>,
): Promise<boolean> {
  return inTransaction(sql(), async (client) => {
    const before = await readState(client, tenantId);
    const token = await deleteContractRow(client, tenantId);
    const { rows } = await client.query<{ company_name: string; pipedrive_user_name: string }>(
      `DELETE FROM pipedrive_connections WHERE tenant_id = $1::uuid RETURNING company_name, pipedrive_user_name`,
      [tenantId],
    );
    const row = rows[0];
    if (!token && before.kind === "absent") return false;
    const decision = decide(before, { type: event }, new Date());
    await record(client, tenantId, before.kind === "absent" ? { audit: event, mail: event } : decision, {
      detail,
      actorUserId,
      named: row && { companyName: row.company_name, pipedriveUserName: row.pipedrive_user_name },
    });
    return true;
  });
}
