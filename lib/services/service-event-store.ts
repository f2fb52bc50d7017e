import "server-only";

import { randomUUID } from "node:crypto";

import type pg from "pg";

import { inTransaction, sql } from "../db.ts";

// The outbox of connection events for services (pipedrive_service_events). Written in the move's
// own transaction (owe), so an event exists exactly when its change committed; taken one at a
// time under a row lock, oldest first and in order per workspace, so several keepers never send
// one twice or two of a workspace's out of order. Never holds a token.

export type ServiceEvent = {
  id: string;
  webhookId: string;
  tenantId: string;
  type: string;
  payload: unknown;
  createdAt: Date;
};

/**
 * Owes services an event about the workspace's connection, as it is in this transaction: its
 * condition, status, Pipedrive company and user, and api_domain as a bare host. `known`: what
 * the move said of who and what (a removal's row is gone by now).
 */
export async function oweServiceEvent(
  client: pg.PoolClient,
  tenantId: string,
  what: { type: string; condition: string; message: string | null },
  known: Record<string, unknown>,
): Promise<void> {
  await client.query(
    `INSERT INTO pipedrive_service_events (webhook_id, tenant_id, type, payload)
     SELECT $2, $1::uuid, 'pipedrive.connection.' || $3::text, jsonb_build_object(
       'type', 'pipedrive.connection.' || $3::text,
       'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
       'data', jsonb_build_object(
         'tenant_id', $1::text,
         'condition', $4::text,
         'status', COALESCE(c.status::text, 'not_connected'),
         'message', $5::text,
         'company', COALESCE(c.company_name, $6::jsonb->>'companyName'),
         'pipedrive_user', COALESCE(c.pipedrive_user_name, $6::jsonb->>'pipedriveUserName'),
         'api_domain', pipedrive_bare_host(t.api_domain),
         'occurred_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
     FROM (SELECT 1) AS one
     LEFT JOIN pipedrive_connections c ON c.tenant_id = $1::uuid
     LEFT JOIN lead_pipedrive_integrations t ON t.tenant_id = $1::uuid`,
    [tenantId, `msg_${randomUUID()}`, what.type, what.condition, what.message, JSON.stringify(known)],
  );
}

/**
 * Takes the next event due for delivery and runs `deliver` while holding its row lock: the
 * oldest undelivered one of a workspace whose earlier events are all delivered or given up.
 * `deliver` answers delivered, or when to try again, or to give up. False when none is due.
 */
export async function deliverNextEvent(
  now: Date,
  deliver: (
    event: ServiceEvent,
    attempts: number,
  ) => Promise<{ delivered: true; status: number } | { retryAt: Date | null; status: number | null; error: string }>,
): Promise<boolean> {
  return inTransaction(sql(), async (client) => {
    const { rows } = await client.query<{
      id: string;
      webhook_id: string;
      tenant_id: string;
      type: string;
      payload: unknown;
      created_at: Date;
      attempts: number;
    }>(
      // A Date holds milliseconds and the column microseconds: an event due within the
      // millisecond `now` names is due.
      `SELECT e.id::text, e.webhook_id, e.tenant_id, e.type, e.payload, e.created_at, e.attempts
       FROM pipedrive_service_events e
       WHERE e.delivered_at IS NULL AND e.dead_at IS NULL
         AND e.next_attempt_at < $1::timestamptz + interval '1 millisecond'
         AND NOT EXISTS (SELECT 1 FROM pipedrive_service_events o WHERE o.tenant_id = e.tenant_id AND o.id < e.id
                         AND o.delivered_at IS NULL AND o.dead_at IS NULL)
       ORDER BY e.id LIMIT 1 FOR UPDATE SKIP LOCKED`,
      [now],
    );
    const row = rows[0];
    if (!row) return false;
    const event = {
      id: row.id,
      webhookId: row.webhook_id,
      tenantId: row.tenant_id,
      type: row.type,
      payload: row.payload,
      createdAt: row.created_at,
    };
    const result = await deliver(event, row.attempts);
    if ("delivered" in result) {
      await client.query(
        `UPDATE pipedrive_service_events SET delivered_at = $2, attempts = attempts + 1, last_status = $3, last_error = NULL
         WHERE id = $1::bigint`,
        [row.id, now, result.status],
      );
    } else {
      await client.query(
        `UPDATE pipedrive_service_events SET attempts = attempts + 1, last_status = $2, last_error = $3,
           next_attempt_at = COALESCE($4::timestamptz, next_attempt_at), dead_at = CASE WHEN $4::timestamptz IS NULL THEN $5::timestamptz END
         WHERE id = $1::bigint`,
        [row.id, result.status, result.error.slice(0, 300), result.retryAt, now],
      );
    }
    return true;
  });
}

/** Events not yet delivered (nor given up), and the age of the oldest: for metrics. */
export async function undeliveredEvents(now: Date): Promise<{ count: number; oldestSeconds: number }> {
  const { rows } = await sql().query<{ count: number; oldest: Date | null }>(
    `SELECT count(*)::int AS count, min(created_at) AS oldest FROM pipedrive_service_events
     WHERE delivered_at IS NULL AND dead_at IS NULL`,
  );
  const oldest = rows[0]?.oldest;
  return {
    count: rows[0]?.count ?? 0,
    oldestSeconds: oldest ? Math.max(0, (now.getTime() - oldest.getTime()) / 1000) : 0,
  };
}

/** The keeper's purge: events two days old are history, delivered, given up, or never taken. */
export async function purgeOldServiceEvents(now: Date): Promise<number> {
  const { rowCount } = await sql().query(
    `DELETE FROM pipedrive_service_events WHERE created_at < $1::timestamptz - interval '2 days'`,
    [now],
  );
  return rowCount ?? 0;
}

/** The delivery log, newest first: each event's attempts, last status and where it stands. */
export async function eventLog(limit: number): Promise<
  {
    webhookId: string;
    tenantId: string;
    type: string;
    createdAt: Date;
    attempts: number;
    lastStatus: number | null;
    state: string;
  }[]
> {
  const { rows } = await sql().query<{
    webhook_id: string;
    tenant_id: string;
    type: string;
    created_at: Date;
    attempts: number;
    last_status: number | null;
    state: string;
  }>(
    `SELECT webhook_id, tenant_id, type, created_at, attempts, last_status,
       CASE WHEN delivered_at IS NOT NULL THEN 'delivered' WHEN dead_at IS NOT NULL THEN 'given up' ELSE 'owed' END AS state
     FROM pipedrive_service_events ORDER BY id DESC LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({
    webhookId: r.webhook_id,
    tenantId: r.tenant_id,
    type: r.type,
    createdAt: r.created_at,
    attempts: r.attempts,
    lastStatus: r.last_status,
    state: r.state,
  }));
}

/**
 * Owes an event again, under its own webhook-id (receivers deduplicate by it): one by id, or
 * every one given up. How many it made due.
 */
export async function redeliver(which: { webhookId: string } | { givenUp: true }): Promise<number> {
  const { rowCount } = await sql().query(
    `UPDATE pipedrive_service_events SET delivered_at = NULL, dead_at = NULL, attempts = 0, next_attempt_at = now(),
       created_at = now()
     WHERE ${"webhookId" in which ? "webhook_id = $1" : "dead_at IS NOT NULL AND $1::text IS NULL"}`,
    ["webhookId" in which ? which.webhookId : null],
  );
  return rowCount ?? 0;
}
