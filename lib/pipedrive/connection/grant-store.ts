import "server-only";

import type pg from "pg";

import { grantSql, inTransaction, sql } from "../../db.ts";
import type { TokenSet } from "../client/oauth-client.ts";
import type { PipedriveMe } from "../client/schemas.ts";
import type { Install } from "../settings-view-store.ts";
import { deleteContractRow, upsertContractRow } from "../tokens/contract-store.ts";
import { expiresAt } from "../tokens/policy.ts";
import { decide, type ConnectionState, type ConnectionStatus } from "./lifecycle.ts";
import { readState, record } from "./move-store.ts";

// A connection's first and last moves: a grant saved (connect, reconnect, switch of Pipedrive
// user) and a removal (Disconnect, uninstall). Each writes the contract row and our metadata, and
// hands its decision to the executor's record (move-store.ts) for the audit row and the mail.

/** The grant a save replaced: the install it belonged to and the refresh token the row held. */
export type ReplacedGrant = { install: { companyId: number; pipedriveUserId: number }; refreshToken: string | null };

type Grant = {
  tenantId: string;
  tokens: TokenSet & { refreshToken: string; apiHost: string };
  me: PipedriveMe;
  status: "connected" | "needs_permissions";
  actor: { id: string; name: string };
  now: Date;
  /** When the keeper should first renew it. */
  nextRefreshAt: Date;
};

/** What the workspace held before a save, and who else holds the install. */
type Held = {
  held_by: string | null;
  company_id: number | null;
  company_name: string | null;
  pipedrive_user_id: number | null;
  pipedrive_user_name: string | null;
  refresh_token: string | null;
};

/** The install a workspace is connected as, read where a grant's save is: on connections of its own. */
export async function installOf(tenantId: string): Promise<Install | null> {
  const { rows } = await grantSql().query<Install>(
    `SELECT company_id AS "companyId", pipedrive_user_id AS "pipedriveUserId" FROM pipedrive_connections WHERE tenant_id = $1`,
    [tenantId],
  );
  return rows[0] ?? null;
}

/**
 * Writes a connection: the contract row, its metadata, and the move's audit event and mail. An
 * install (one Pipedrive user in one company) belongs to one workspace: under a lock on the
 * install, a workspace other than this one holding it wins and nothing is written.
 */
export async function saveConnection(
  grant: Grant,
): Promise<{ kind: "connected" | "reconnected"; replaced: ReplacedGrant | null } | { kind: "held"; by: string }> {
  const { tenantId, tokens, me, now } = grant;
  return inTransaction(grantSql(), async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [INSTALL_LOCK, `${me.company_id}:${me.id}`]);
    // A workspace's first connect has no row to lock yet: two at once queue here instead.
    await client.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [FIRST_CONNECT_LOCK, tenantId]);
    const before = await readState(client, tenantId);
    const was = await heldBefore(client, tenantId, me);
    if (was.held_by) return { kind: "held", by: was.held_by };
    const missingScopes = grant.status === "needs_permissions";
    const decision = decide(before, { type: "granted", missingScopes, pipedriveUser: me.id }, now);
    const expires = expiresAt(now, tokens.expiresInSeconds);
    const inserted = await upsertContractRow(client, tenantId, { ...tokens, expiresAt: expires });
    await writeMetadata(client, grant, decision.next.kind === "present" ? decision.next.status : grant.status);
    await record(client, tenantId, decision, { actorUserId: grant.actor.id, detail: grantDetail(grant, before, was) });
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

async function heldBefore(client: pg.PoolClient, tenantId: string, me: PipedriveMe): Promise<Held> {
  const { rows } = await client.query<Held>(
    `SELECT (SELECT tenant_id::text FROM pipedrive_connections
             WHERE company_id = $2 AND pipedrive_user_id = $3 AND tenant_id <> $1::uuid LIMIT 1) AS held_by,
            c.company_id, c.company_name, c.pipedrive_user_id, c.pipedrive_user_name, t.refresh_token
     FROM (SELECT 1) AS one
     LEFT JOIN pipedrive_connections c ON c.tenant_id = $1::uuid
     LEFT JOIN lead_pipedrive_integrations t ON t.tenant_id = $1::uuid`,
    [tenantId, me.company_id, me.id],
  );
  return rows[0]!;
}

/** Who and what is connected, and its schedule: a grant starts its health afresh. */
async function writeMetadata(client: pg.PoolClient, grant: Grant, status: ConnectionStatus) {
  const { tenantId, me, actor, now } = grant;
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
      status,
      me.company_id,
      me.company_name,
      me.company_domain,
      me.id,
      me.name,
      grant.tokens.scopes ?? [],
      actor.id,
      actor.name,
      now,
      grant.nextRefreshAt,
    ],
  );
}

/**
 * What the activity log and the mail say of a grant. A switch of Pipedrive user says from whom as
 * well as to whom; a reconnect, what it replaced (the mail a reconnect sends depends on it) and
 * which admin did it.
 */
function grantDetail(grant: Grant, before: ConnectionState, was: Held): Record<string, unknown> {
  const { me } = grant;
  const switched = was.company_id !== null && (was.company_id !== me.company_id || was.pipedrive_user_id !== me.id);
  return {
    companyId: me.company_id,
    companyName: me.company_name,
    pipedriveUserId: me.id,
    pipedriveUserName: me.name,
    scopes: grant.tokens.scopes,
    by: grant.actor.name,
    ...(before.kind === "present" ? { fromStatus: before.status } : {}),
    ...(switched
      ? {
          fromPipedriveUserId: was.pipedrive_user_id,
          fromPipedriveUserName: was.pipedrive_user_name,
          fromCompanyName: was.company_name,
        }
      : {}),
  };
}

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
