import "server-only";

import type pg from "pg";

import { owe } from "../../notifications/notification-store.ts";
import { oweServiceEvent } from "../../services/service-event-store.ts";
import { CONDITION_WORDS } from "../conditions.ts";
import { insertAuditEvent, type AuditEvent } from "../tokens/audit-store.ts";
import {
  decide,
  healsByProbe,
  serviceEventOf,
  type ConnectionEvent,
  type ConnectionState,
  type ConnectionStatus,
  type Decision,
  type MailEventName,
  type ServiceEventName,
} from "./lifecycle.ts";

// The one executor of a connection's moves. Every flow that changes a connection's state (a
// refresh, a refusal, a probe, a connect, a disconnect, an uninstall) hands its event here: the
// state is read under the row lock, lifecycle.ts decides, and the state, the audit row and the
// mail owed are written in the caller's transaction, so they commit or vanish together.

/** Columns a flow sets beside the state when its move applies; never a token. */
export type Bookkeeping = Partial<{
  scopes: string[];
  last_error: string | null;
  last_error_at: Date | null;
  updated_at: Date;
  next_refresh_at: Date;
  rejected_refresh_token_hash: string | null;
  last_refreshed_at: Date;
}>;

export type Move = {
  event: ConnectionEvent;
  now: Date;
  /** Written when the move applies, i.e. when lifecycle.ts does not answer "nothing changes". */
  bookkeeping?: (before: ConnectionState & { kind: "present" }, after: ConnectionState) => Bookkeeping;
  /** What the activity log says of it, beside the Pipedrive company and user. */
  detail?: Record<string, unknown> | ((before: ConnectionState, after: ConnectionState) => Record<string, unknown>);
  actorUserId?: string | null;
};

export type Applied = { before: ConnectionState; decision: Decision; applied: boolean };

/**
 * Applies one move in `client`'s transaction. The contract row's lock comes first, as every
 * refresher of ours takes it, then the connection's: the same order everywhere, so no deadlock.
 * Grants and removals write more than a state: grant-store.ts calls `readState` and `record`
 * itself around its own statements.
 */
export async function applyMove(client: pg.PoolClient, tenantId: string, move: Move): Promise<Applied> {
  const before = await readState(client, tenantId);
  const decision = decide(before, move.event, move.now);
  // lifecycle.ts answers a move that does not apply with the state itself.
  const applied = before.kind === "present" && decision.next !== before;
  // A refused renewal now being checked: services hold their calls until the verdict.
  if (applied && move.event.type === "refresh_refused" && before.kind === "present" && !before.suspectedSince)
    await tellServices(client, tenantId, "checking_access", "checking_access", {});
  if (applied && decision.next.kind === "present") {
    const columns: Record<string, unknown> = {
      status: decision.next.status,
      suspected_at: decision.next.suspectedSince,
      refused_call: decision.next.refusedCall,
      ...move.bookkeeping?.(before, decision.next),
    };
    const names = Object.keys(columns);
    await client.query(
      `UPDATE pipedrive_connections SET ${names.map((name, i) => `${name} = $${i + 2}`).join(", ")}
       WHERE tenant_id = $1::uuid`,
      [tenantId, ...names.map((name) => columns[name])],
    );
  }
  const detail = typeof move.detail === "function" ? move.detail(before, decision.next) : (move.detail ?? {});
  await record(client, tenantId, decision, {
    detail,
    actorUserId: move.actorUserId ?? null,
    before: before.kind === "present" ? before.status : null,
  });
  return { before, decision, applied };
}

/** The connection's state, locked for the rest of the transaction. */
export async function readState(client: pg.PoolClient, tenantId: string): Promise<ConnectionState> {
  await client.query(`SELECT 1 FROM lead_pipedrive_integrations WHERE tenant_id = $1::uuid FOR UPDATE`, [tenantId]);
  const { rows } = await client.query<{
    status: ConnectionStatus;
    suspected_at: Date | null;
    refused_call: string | null;
    pipedrive_user_id: number;
  }>(
    `SELECT status::text AS status, suspected_at, refused_call, pipedrive_user_id FROM pipedrive_connections
     WHERE tenant_id = $1::uuid FOR UPDATE`,
    [tenantId],
  );
  const row = rows[0];
  return row
    ? {
        kind: "present",
        status: row.status,
        suspectedSince: row.suspected_at,
        refusedCall: row.refused_call,
        pipedriveUser: row.pipedrive_user_id,
      }
    : { kind: "absent" };
}

/**
 * The activity-log row and the mail a decision owes. `named`: whose company and user the event
 * names when the connection is gone by now (a removal names what it removed).
 */
export async function record(
  client: pg.PoolClient,
  tenantId: string,
  decision: { audit: AuditEvent | null; mail: MailEventName | null },
  how: {
    detail: Record<string, unknown>;
    actorUserId: string | null;
    named?: { companyName: string; pipedriveUserName: string };
    /** The status the move left: working again after a refusal that paused lookups is "resumed". */
    before?: ConnectionStatus | null;
  },
): Promise<void> {
  if (!decision.audit) return;
  const names = how.named ? { companyName: how.named.companyName, pipedriveUserName: how.named.pipedriveUserName } : {};
  const { rows } = await client.query<{ detail: Record<string, unknown> }>(
    `${insertAuditEvent({
      tenant: "$1::uuid",
      actor: "$2::uuid",
      event: "$3",
      detail: "$4::jsonb",
      named: how.named ? null : "pipedrive_connections WHERE tenant_id = $1::uuid",
    })} RETURNING detail`,
    [tenantId, how.actorUserId, decision.audit, JSON.stringify({ ...names, ...how.detail })],
  );
  if (decision.mail) await owe(client, tenantId, decision.mail, rows[0]!.detail);
  const said = serviceEventOf(decision.mail ?? decision.audit);
  const told = said === "recovered" && healsByProbe(how.before ?? null) ? "resumed" : said;
  if (told) await tellServices(client, tenantId, told, decision.audit, rows[0]!.detail);
}

/** The event services are owed, with the condition it leaves and its words for callers. */
async function tellServices(
  client: pg.PoolClient,
  tenantId: string,
  told: ServiceEventName,
  condition: string,
  detail: Record<string, unknown>,
) {
  const conditionNow = told === "paused" ? condition : told === "recovered" || told === "resumed" ? "connected" : told;
  const words = (CONDITION_WORDS as Record<string, { caller?: string }>)[conditionNow]?.caller ?? null;
  await oweServiceEvent(client, tenantId, { type: told, condition: conditionNow, message: words }, detail);
}
