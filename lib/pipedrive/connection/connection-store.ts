import "server-only";

import { createHash } from "node:crypto";

import type pg from "pg";

import { inTransaction, sql } from "../../db.ts";
import { writeBehind } from "../../write-behind.ts";
import type { TokenRow } from "../tokens/contract-store.ts";
import { NEEDS_RECONNECT_RECHECK_MS } from "../tokens/policy.ts";
import type { ApiRefusal, ConnectionStatus } from "./lifecycle.ts";
import { applyMove, readState, record } from "./move-store.ts";

// The moves of a connected workspace's health, as its flows call them (grants and removals are
// grant-store.ts's). Each hands its move to the executor (move-store.ts), which decides it with
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

/**
 * The workspace's company's Pipedrive limit paused lookups (a long 429): logged for the
 * workspace, and its admins mailed, once a pause (the caller passes only a pause that started).
 */
export async function notePause(tenantId: string, until: Date, reason: string): Promise<void> {
  await inTransaction(sql(), (client) =>
    record(
      client,
      tenantId,
      { audit: "paused", mail: "paused" },
      {
        actorUserId: null,
        detail: { until: until.toISOString(), reason: reason.slice(0, 200) },
      },
    ),
  );
}

/**
 * Daily pauses whose time is up: each workspace they paused is told lookups resumed (the log and
 * services), once, under its row lock. The keeper's scan runs it every minute. How many it told.
 */
export async function noteResumedPauses(now: Date): Promise<number> {
  const { rows } = await sql().query<{ tenant_id: string; until: string }>(
    `SELECT tenant_id, until FROM (
       SELECT DISTINCT ON (tenant_id) tenant_id, event, detail->>'until' AS until FROM pipedrive_audit_events
       WHERE event IN ('paused', 'resumed') AND created_at > $1::timestamptz - interval '2 days'
       ORDER BY tenant_id, id DESC) latest
     WHERE event = 'paused' AND until ~ '^\\d{4}-\\d\\d-\\d\\dT' AND until::timestamptz <= $1::timestamptz`,
    [now],
  );
  let told = 0;
  for (const row of rows) {
    await inTransaction(sql(), async (client) => {
      if ((await readState(client, row.tenant_id)).kind === "absent") return;
      const latest = await client.query<{ event: string }>(
        `SELECT event FROM pipedrive_audit_events WHERE tenant_id = $1::uuid AND event IN ('paused', 'resumed')
         ORDER BY id DESC LIMIT 1`,
        [row.tenant_id],
      );
      if (latest.rows[0]?.event !== "paused") return;
      await record(client, row.tenant_id, { audit: "resumed", mail: null }, { actorUserId: null, detail: {} });
      told++;
    });
  }
  return told;
}

/** A member asked the workspace's admins to connect or reconnect: logged, and the admins mailed. */
export async function noteAsk(member: { id: string; tenantId: string; name: string }, what: "connect" | "reconnect") {
  await inTransaction(sql(), (client) =>
    record(
      client,
      member.tenantId,
      { audit: "admins_asked", mail: "member_asked" },
      {
        actorUserId: member.id,
        detail: { by: member.name, what },
      },
    ),
  );
}

const lastUse = writeBehind<number>({
  name: "last use",
  merge: Math.max,
  write: (batch) =>
    sql().query(
      `UPDATE pipedrive_connections c SET last_used_at = GREATEST(c.last_used_at, v.at)
       FROM unnest($1::uuid[], $2::timestamptz[]) AS v(tenant_id, at) WHERE c.tenant_id = v.tenant_id`,
      [batch.map(([tenant]) => tenant), batch.map(([, at]) => new Date(at))],
    ),
});

/** A lookup worked for the workspace: written within a second, never failing or slowing it. */
export function recordUse(tenantId: string, at: Date): void {
  lastUse.add(tenantId, at.getTime());
}

/** Writes this process's recorded uses now (the page's own lookup, before it shows the card). */
export function usesWritten(): Promise<void> {
  return lastUse.flush();
}

/** The keeper's next visit, computed by the renewal policy. */
export async function setNextVisit(tenantId: string, at: Date): Promise<void> {
  await sql().query(`UPDATE pipedrive_connections SET next_refresh_at = $2 WHERE tenant_id = $1::uuid`, [tenantId, at]);
}
