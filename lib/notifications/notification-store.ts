import "server-only";

import type pg from "pg";

import { inTransaction, sql } from "../db.ts";
import {
  mailFor,
  type MAILED_EVENTS,
  type MailEventName,
  type MailHistory,
} from "../pipedrive/connection/lifecycle.ts";

// The outbox of mail owed to workspace admins (table pipedrive_notifications). Rows are written
// in the state change's own transaction (owe, called by the connection's move executor); here
// they are taken one at a time, under a row lock, so two keepers never deliver the same one.

/** The audit events that mail a workspace's admins: the connection's lifecycle decides which. */
export type NotificationEvent = (typeof MAILED_EVENTS)[number];

export type Notification = {
  id: string;
  tenantId: string;
  event: NotificationEvent;
  createdAt: Date;
  attempts: number;
  /** The audit event's detail: who and what the mail names (our own rows, still read as unknown). */
  detail: unknown;
};

export type Recipient = { email: string; name: string; timeZone: string | null };

export type Delivery = { outcome: "sent" | "no_recipients" } | { failed: string; retryAt: Date };

/**
 * Owes the admins a mail about a move, in the move's transaction, unless lifecycle.ts's mailFor
 * judges it a repeat of one sent within the day (then it is kept as done, never sent). The
 * caller holds the connection's row lock, so the history it judges by is settled. Times are the
 * database's, as the outbox's own columns are.
 */
export async function owe(client: pg.PoolClient, tenantId: string, event: MailEventName, detail: unknown) {
  const { rows } = await client.query<{ now: Date; history: { event: MailEventName; repeat: boolean; at: string }[] }>(
    `SELECT now() AS now, COALESCE((
       SELECT json_agg(json_build_object('event', event, 'repeat', outcome IS NOT DISTINCT FROM 'repeat', 'at', created_at) ORDER BY id)
       FROM pipedrive_notifications
       WHERE tenant_id = $1::uuid AND (created_at > now() - interval '1 day' OR id = (
         SELECT max(id) FROM pipedrive_notifications WHERE tenant_id = $1::uuid AND event <> 'recovered'))
     ), '[]'::json) AS history`,
    [tenantId],
  );
  const { now, history } = rows[0]!;
  const owed = mailFor(event, history.map((mail) => ({ ...mail, at: new Date(mail.at) })) satisfies MailHistory, now);
  if (!owed) return;
  await client.query(
    owed.repeat
      ? `INSERT INTO pipedrive_notifications (tenant_id, event, detail, outcome, done_at) VALUES ($1::uuid, $2, $3::jsonb, 'repeat', now())`
      : `INSERT INTO pipedrive_notifications (tenant_id, event, detail) VALUES ($1::uuid, $2, $3::jsonb)`,
    [tenantId, event, JSON.stringify(detail)],
  );
  // The keeper sends it when this commits, not at its next minute.
  if (!owed.repeat) await client.query(`SELECT pg_notify($1, '')`, [NOTIFICATIONS_CHANNEL]);
}

/** The channel a committed notification is announced on (empty payload). */
export const NOTIFICATIONS_CHANNEL = "pipedrive_notifications";

/**
 * Takes the oldest due notification and runs `deliver` for it while holding its row lock; what
 * it returns is recorded in the same transaction. False when none is due.
 */
export function deliverNext(
  now: Date,
  deliver: (notification: Notification, recipients: Recipient[], tenantName: string) => Promise<Delivery>,
): Promise<boolean> {
  return inTransaction(sql(), async (client) => {
    const { rows } = await client.query<{
      id: string;
      tenant_id: string;
      event: NotificationEvent;
      created_at: Date;
      attempts: number;
      detail: unknown;
    }>(
      // A Date holds milliseconds and the column microseconds: a mail owed within the millisecond
      // `now` names is due. A bare `id` would sort the text output column, "1000" before "999".
      // In order per workspace: not while an older mail of the same workspace is owed (being sent
      // by another sender, or waiting to be tried again), so "stopped" never arrives after "works again".
      `SELECT id::text, tenant_id, event, created_at, attempts, detail FROM pipedrive_notifications n
       WHERE done_at IS NULL AND next_attempt_at < $1::timestamptz + interval '1 millisecond'
         AND NOT EXISTS (SELECT 1 FROM pipedrive_notifications o
                         WHERE o.tenant_id = n.tenant_id AND o.id < n.id AND o.done_at IS NULL)
       ORDER BY n.id LIMIT 1 FOR UPDATE SKIP LOCKED`,
      [now],
    );
    const row = rows[0];
    if (!row) return false;
    const notification = {
      id: row.id,
      tenantId: row.tenant_id,
      event: row.event,
      createdAt: row.created_at,
      attempts: row.attempts,
      detail: row.detail,
    };
    const { recipients, tenantName } = await recipientsOf(client, row.tenant_id);
    const result = await deliver(notification, recipients, tenantName);
    if ("outcome" in result) {
      await client.query(
        `UPDATE pipedrive_notifications SET outcome = $2, done_at = $3, attempts = attempts + 1 WHERE id = $1::bigint`,
        [row.id, result.outcome, now],
      );
    } else {
      await client.query(
        `UPDATE pipedrive_notifications SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 WHERE id = $1::bigint`,
        [row.id, result.failed.slice(0, 300), result.retryAt],
      );
    }
    return true;
  });
}

/** The workspace's admins who have not turned these mails off. */
async function recipientsOf(client: pg.PoolClient, tenantId: string) {
  const { rows } = await client.query<{ email: string; name: string; time_zone: string | null; tenant_name: string }>(
    `SELECT u.email, u.name, u.time_zone, t.name AS tenant_name FROM tenants t
     LEFT JOIN users u ON u.tenant_id = t.id AND u.role = 'admin' AND u.pipedrive_mail
     WHERE t.id = $1::uuid ORDER BY u.email`,
    [tenantId],
  );
  return {
    recipients: rows
      .filter((r) => r.email !== null)
      .map((r) => ({ email: r.email, name: r.name, timeZone: r.time_zone })),
    tenantName: rows[0]?.tenant_name ?? "your workspace",
  };
}

/** Notifications not yet done: for readiness and metrics. */
export async function pendingNotifications(): Promise<number> {
  const { rows } = await sql().query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pipedrive_notifications WHERE done_at IS NULL`,
  );
  return rows[0]?.n ?? 0;
}

/** Mail nobody could send in a day (no SMTP_URL, or a server refusing it) is old news: expire it. */
export async function expireStaleNotifications(now: Date): Promise<number> {
  const { rowCount } = await sql().query(
    `UPDATE pipedrive_notifications SET outcome = 'expired', done_at = $1
     WHERE done_at IS NULL AND created_at < $1::timestamptz - interval '1 day'`,
    [now],
  );
  return rowCount ?? 0;
}
