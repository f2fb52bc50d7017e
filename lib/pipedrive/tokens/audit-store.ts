import "server-only";

import { sql } from "../../db.ts";
import type { AuditEventName } from "../connection/lifecycle.ts";

// The audit trail, pipedrive_audit_events: what happened to a workspace's connection, and who did
// it. Every event is written by insertAuditEvent, on its own or beside the change it records.

/** A move of the connection's life (lifecycle.ts), or one of OTHER_EVENTS. */
/** What the log records beside the connection's moves: attempts that changed nothing, and pauses. */
export const OTHER_EVENTS = [
  "revoke_failed",
  "connect_refused",
  "connect_failed",
  "connect_cancelled",
  "switch_cancelled",
  "paused",
  "resumed",
  "admins_asked",
] as const;
export type AuditEvent = AuditEventName | (typeof OTHER_EVENTS)[number];

/**
 * The one shape of an audit event's INSERT, for a statement of its own or a CTE beside the change
 * it records. `named` (a FROM item with company_name and pipedrive_user_name, such as the
 * connection or the rows a statement changed) names the Pipedrive company and user; what
 * `detail` says itself wins. The other fields are SQL expressions, usually parameters.
 */
export function insertAuditEvent(sqlOf: {
  tenant: string;
  actor: string;
  event: string;
  detail: string;
  named: string | null;
  when?: string;
}): string {
  const names = sqlOf.named
    ? `jsonb_strip_nulls(jsonb_build_object('companyName', (SELECT company_name FROM ${sqlOf.named}),
         'pipedriveUserName', (SELECT pipedrive_user_name FROM ${sqlOf.named}))) || `
    : "";
  return `INSERT INTO pipedrive_audit_events (tenant_id, actor_user_id, event, detail)
    SELECT ${sqlOf.tenant}, ${sqlOf.actor}, ${sqlOf.event}, ${names}${sqlOf.detail} WHERE ${sqlOf.when ?? "true"}`;
}

/**
 * An event about a connect attempt, not the connection: it names a company only if `detail` does,
 * since the attempt may have been for another one.
 */
export async function audit(
  tenantId: string,
  event: AuditEvent,
  actorUserId: string | null,
  detail: Record<string, unknown> = {},
): Promise<void> {
  await sql().query(
    insertAuditEvent({ tenant: "$1::uuid", actor: "$2::uuid", event: "$3", detail: "$4::jsonb", named: null }),
    [tenantId, actorUserId, event, JSON.stringify(detail)],
  );
}
