import "server-only";

import { randomUUID } from "node:crypto";

import type pg from "pg";

import { inTransaction, sql } from "../db.ts";

// The outbox of connection events for services (pipedrive_service_events), and each event's
// delivery to each subscriber named when it was made (pipedrive_event_deliveries). Written in the
// move's own transaction (owe), so an event exists exactly when its change committed; taken one
// at a time under the delivery's row lock, oldest first and in order per workspace and
// subscriber, so several workers never send one twice or a workspace's out of order, and one
// subscriber that is down holds no other back. Never holds a token.

export type ServiceEvent = {
  id: string;
  webhookId: string;
  tenantId: string;
  type: string;
  payload: unknown;
  createdAt: Date;
  /** When this delivery was owed: the event's making, or the operator's redelivery. */
  owedAt: Date;
};

/**
 * Owes services an event about the workspace's connection, as it is in this transaction: its
 * condition, status, Pipedrive company and user, and api_domain as a bare host, with a delivery
 * owed to each subscriber. `known`: what the move said of who and what (a removal's row is gone
 * by now).
 */
export async function oweServiceEvent(
  client: pg.PoolClient,
  tenantId: string,
  what: { type: string; condition: string; message: string | null },
  known: Record<string, unknown>,
): Promise<void> {
  await client.query(
    `WITH event AS (
       INSERT INTO pipedrive_service_events (webhook_id, tenant_id, type, payload)
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
       LEFT JOIN lead_pipedrive_integrations t ON t.tenant_id = $1::uuid
       RETURNING id)
     INSERT INTO pipedrive_event_deliveries (subscriber, event_id, tenant_id)
     SELECT s.name, event.id, $1::uuid FROM event, pipedrive_event_subscribers s`,
    [tenantId, `msg_${randomUUID()}`, what.type, what.condition, what.message, JSON.stringify(known)],
  );
  // Wakes the workers' delivery at commit (and not before), instead of at their next poll.
  await client.query(`SELECT pg_notify($1, '')`, [EVENTS_CHANNEL]);
}

/** The channel a committed event is announced on; the payload is empty (LISTEN needs no table access). */
export const EVENTS_CHANNEL = "pipedrive_service_events";

/**
 * The subscribers events are owed to, as the worker was configured: each named one is owed every
 * event from now on; one no longer named is owed nothing more, and its deliveries are dropped.
 */
export async function nameSubscribers(names: readonly string[]): Promise<void> {
  await inTransaction(sql(), async (client) => {
    await client.query(`DELETE FROM pipedrive_event_subscribers WHERE NOT (name = ANY($1::text[]))`, [names]);
    await client.query(
      `INSERT INTO pipedrive_event_subscribers (name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING`,
      [names],
    );
  });
}

export type DeliveryResult =
  { delivered: true; status: number } | { retryAt: Date | null; status: number | null; error: string };

/**
 * Takes the next event due for the subscriber and runs `deliver` while holding its delivery's
 * row lock: the oldest undelivered one of a workspace whose earlier events are all delivered or
 * given up. `deliver` answers delivered, or when to try again, or to give up. False when none is due.
 */
export async function deliverNextEvent(
  subscriber: string,
  now: Date,
  deliver: (event: ServiceEvent, attempts: number) => Promise<DeliveryResult>,
): Promise<boolean> {
  return inTransaction(sql(), async (client) => {
    const { rows } = await client.query<{
      id: string;
      webhook_id: string;
      tenant_id: string;
      type: string;
      payload: unknown;
      created_at: Date;
      owed_at: Date;
      attempts: number;
    }>(
      // A Date holds milliseconds and the column microseconds: an event due within the
      // millisecond `now` names is due.
      `SELECT e.id::text, e.webhook_id, e.tenant_id, e.type, e.payload, e.created_at, d.owed_at, d.attempts
       FROM pipedrive_event_deliveries d JOIN pipedrive_service_events e ON e.id = d.event_id
       WHERE d.subscriber = $2 AND d.delivered_at IS NULL AND d.dead_at IS NULL
         AND d.next_attempt_at < $1::timestamptz + interval '1 millisecond'
         AND NOT EXISTS (SELECT 1 FROM pipedrive_event_deliveries o
                         WHERE o.subscriber = d.subscriber AND o.tenant_id = d.tenant_id AND o.event_id < d.event_id
                           AND o.delivered_at IS NULL AND o.dead_at IS NULL)
       ORDER BY d.event_id LIMIT 1 FOR UPDATE OF d SKIP LOCKED`,
      [now, subscriber],
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
      owedAt: row.owed_at,
    };
    const result = await deliver(event, row.attempts);
    if ("delivered" in result) {
      await client.query(
        `UPDATE pipedrive_event_deliveries SET delivered_at = $3, attempts = attempts + 1, last_status = $4, last_error = NULL
         WHERE subscriber = $1 AND event_id = $2::bigint`,
        [subscriber, row.id, now, result.status],
      );
    } else {
      await client.query(
        `UPDATE pipedrive_event_deliveries SET attempts = attempts + 1, last_status = $3, last_error = $4,
           next_attempt_at = COALESCE($5::timestamptz, next_attempt_at), dead_at = CASE WHEN $5::timestamptz IS NULL THEN $6::timestamptz END
         WHERE subscriber = $1 AND event_id = $2::bigint`,
        [subscriber, row.id, result.status, result.error.slice(0, 300), result.retryAt, now],
      );
    }
    return true;
  });
}

/**
 * Keeps the subscriber's run of failures: a success ends it; a failure starts it, or continues
 * it. True exactly once per run, when it has lasted `tellAfterMs`: the operators are told then.
 */
export async function noteSubscriberRun(
  subscriber: string,
  ok: boolean,
  now: Date,
  tellAfterMs: number,
): Promise<{ tell: boolean; failingSince: Date | null }> {
  const { rows } = await sql().query<{ tell: boolean; failing_since: Date | null }>(
    ok
      ? `UPDATE pipedrive_event_subscribers SET failing_since = NULL, operators_told_at = NULL
         WHERE name = $1 RETURNING false AS tell, NULL::timestamptz AS failing_since`
      : `WITH before AS (SELECT failing_since, operators_told_at FROM pipedrive_event_subscribers WHERE name = $1 FOR UPDATE)
         UPDATE pipedrive_event_subscribers s
         SET failing_since = COALESCE(s.failing_since, $2::timestamptz),
             operators_told_at = CASE WHEN s.operators_told_at IS NULL
                                       AND COALESCE(s.failing_since, $2::timestamptz) <= $2::timestamptz - make_interval(secs => $3::double precision / 1000)
                                      THEN $2::timestamptz ELSE s.operators_told_at END
         FROM before WHERE s.name = $1
         RETURNING (before.operators_told_at IS NULL AND s.operators_told_at IS NOT NULL) AS tell, s.failing_since`,
    ok ? [subscriber] : [subscriber, now, tellAfterMs],
  );
  return { tell: rows[0]?.tell ?? false, failingSince: rows[0]?.failing_since ?? null };
}

export type DeliveryStats = {
  subscriber: string;
  owed: number;
  delivered: number;
  givenUp: number;
  /** The age of the oldest delivery still owed; 0 when none is. */
  oldestSeconds: number;
};

/** Per subscriber, over the two days events are kept: owed, delivered, given up, and the oldest owed. For metrics. */
export async function deliveryStats(now: Date): Promise<DeliveryStats[]> {
  const { rows } = await sql().query<Omit<DeliveryStats, "oldestSeconds"> & { oldest: Date | null }>(
    `SELECT s.name AS subscriber,
       count(*) FILTER (WHERE d.delivered_at IS NULL AND d.dead_at IS NULL AND d.event_id IS NOT NULL)::int AS owed,
       count(d.delivered_at)::int AS delivered,
       count(d.dead_at)::int AS "givenUp",
       min(d.owed_at) FILTER (WHERE d.delivered_at IS NULL AND d.dead_at IS NULL) AS oldest
     FROM pipedrive_event_subscribers s
     LEFT JOIN pipedrive_event_deliveries d ON d.subscriber = s.name
     GROUP BY s.name ORDER BY s.name`,
  );
  return rows.map(({ oldest, ...r }) => ({
    ...r,
    oldestSeconds: oldest ? Math.max(0, (now.getTime() - oldest.getTime()) / 1000) : 0,
  }));
}

/** The keeper's purge: events two days old are history, delivered, given up, or never taken. */
export async function purgeOldServiceEvents(now: Date): Promise<number> {
  const { rowCount } = await sql().query(
    `DELETE FROM pipedrive_service_events WHERE created_at < $1::timestamptz - interval '2 days'`,
    [now],
  );
  return rowCount ?? 0;
}

export type DeliveryLogLine = {
  subscriber: string;
  webhookId: string;
  tenantId: string;
  type: string;
  createdAt: Date;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  /** From when it was owed (made, or redelivered) to its delivery; null until delivered. */
  lagMs: number | null;
  state: "delivered" | "given up" | "owed";
};

/** The delivery log, newest first: each delivery's attempts, last status, lag and where it stands. */
export async function eventLog(limit: number): Promise<DeliveryLogLine[]> {
  const { rows } = await sql().query<Omit<DeliveryLogLine, "lagMs"> & { lagMs: number | null }>(
    `SELECT d.subscriber, e.webhook_id AS "webhookId", e.tenant_id AS "tenantId", e.type, e.created_at AS "createdAt",
       d.attempts, d.last_status AS "lastStatus", d.last_error AS "lastError",
       (extract(epoch FROM d.delivered_at - d.owed_at) * 1000)::float8 AS "lagMs",
       CASE WHEN d.delivered_at IS NOT NULL THEN 'delivered' WHEN d.dead_at IS NOT NULL THEN 'given up' ELSE 'owed' END AS state
     FROM pipedrive_event_deliveries d JOIN pipedrive_service_events e ON e.id = d.event_id
     ORDER BY d.event_id DESC, d.subscriber LIMIT $1`,
    [limit],
  );
  return rows;
}

/**
 * Owes an event again, under its own webhook-id (receivers deduplicate by it): one by id, or
 * every one given up; to every subscriber, or to one. How many deliveries it made due.
 */
export async function redeliver(
  which: { webhookId: string } | { givenUp: true },
  subscriber?: string,
): Promise<number> {
  const { rowCount } = await sql().query(
    `UPDATE pipedrive_event_deliveries d SET delivered_at = NULL, dead_at = NULL, attempts = 0, next_attempt_at = now(), owed_at = now()
     FROM pipedrive_service_events e
     WHERE e.id = d.event_id AND ($2::text IS NULL OR d.subscriber = $2)
       AND ${"webhookId" in which ? "e.webhook_id = $1" : "d.dead_at IS NOT NULL AND $1::text IS NULL"}`,
    ["webhookId" in which ? which.webhookId : null, subscriber ?? null],
  );
  return rowCount ?? 0;
}
