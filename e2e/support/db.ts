import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";

import bcrypt from "bcryptjs";
import pg from "pg";

import { DEMO_TENANT_ID, OTHER_TENANT_ID, STATE_DIR } from "./env.ts";

// Direct access to the suite's database, for assertions and for resetting between tests.

let pool: pg.Pool | undefined;
function db() {
  pool ??= new pg.Pool({ connectionString: readFileSync(path.join(STATE_DIR, "database-url"), "utf8").trim(), max: 2 });
  return pool;
}

export type ContractRow = {
  tenant_id: string;
  access_token: string;
  refresh_token: string;
  expires_at: Date;
  api_domain: string;
};

export const testDb = {
  async resetTenants() {
    const ids = [DEMO_TENANT_ID, OTHER_TENANT_ID];
    await db().query(`DELETE FROM lead_pipedrive_integrations WHERE tenant_id = ANY($1::uuid[])`, [ids]);
    await db().query(`DELETE FROM pipedrive_connections WHERE tenant_id = ANY($1::uuid[])`, [ids]);
    await db().query(`DELETE FROM pipedrive_audit_events WHERE tenant_id = ANY($1::uuid[])`, [ids]);
    await db().query(`DELETE FROM pipedrive_oauth_states WHERE tenant_id = ANY($1::uuid[])`, [ids]);
    await db().query(`DELETE FROM pipedrive_pending_installs`);
  },
  async contractRows(tenantId: string): Promise<ContractRow[]> {
    return (await db().query<ContractRow>(`SELECT * FROM lead_pipedrive_integrations WHERE tenant_id = $1`, [tenantId]))
      .rows;
  },
  async connection(tenantId: string) {
    return (
      (
        await db().query<{ status: string; last_error: string | null }>(
          `SELECT status::text, last_error FROM pipedrive_connections WHERE tenant_id = $1`,
          [tenantId],
        )
      ).rows[0] ?? null
    );
  },
  async auditEvents(tenantId: string): Promise<string[]> {
    return (
      await db().query<{ event: string }>(`SELECT event FROM pipedrive_audit_events WHERE tenant_id = $1 ORDER BY id`, [
        tenantId,
      ])
    ).rows.map((r) => r.event);
  },
  /** Marketplace codes held for confirmation, past Pipedrive's 5 minutes: the test's clock. */
  async agePendingInstalls() {
    await db().query(`UPDATE pipedrive_pending_installs SET code_expires_at = now() - interval '1 second'`);
  },
  /** Moves the tenant's open OAuth states past their expiry: the test's clock. */
  async expireStates(tenantId: string) {
    await db().query(
      `UPDATE pipedrive_oauth_states SET expires_at = now() - interval '1 second' WHERE tenant_id = $1`,
      [tenantId],
    );
  },
  /** What Pipedrive can send us that is longer than any layout expects. */
  async setConnectionDetails(
    tenantId: string,
    details: { companyName: string; companyDomain: string; pipedriveUserName: string; connectedByName: string },
  ) {
    await db().query(
      `UPDATE pipedrive_connections SET company_name = $2, company_domain = $3, pipedrive_user_name = $4, connected_by_name = $5 WHERE tenant_id = $1`,
      [tenantId, details.companyName, details.companyDomain, details.pipedriveUserName, details.connectedByName],
    );
  },
  /** Moves the keeper's last scan into the past, as if it had stopped then. */
  async keeperLastSeen(at: Date) {
    await db().query(`UPDATE keeper_heartbeats SET beat_at = $1 WHERE name = 'scan'`, [at]);
  },
  async keeperHeartbeat(): Promise<Date | null> {
    return (
      (await db().query<{ beat_at: Date }>(`SELECT beat_at FROM keeper_heartbeats WHERE name = 'scan'`)).rows[0]
        ?.beat_at ?? null
    );
  },
  /** Pipedrive's daily budget spent for the mock's company, as a 429 would record it. */
  async blockCompany(apiHost: string, until: Date | null) {
    if (until === null)
      return void (await db().query(`DELETE FROM pipedrive_rate_limits WHERE api_host = $1`, [apiHost]));
    await db().query(
      `INSERT INTO pipedrive_rate_limits (api_host, blocked_until, reason) VALUES ($1, $2, 'e2e') ON CONFLICT (api_host) DO UPDATE SET blocked_until = EXCLUDED.blocked_until`,
      [apiHost, until],
    );
  },
  /** A user of the demo workspace for specs that end its sessions (sign-out ends them all). */
  async createUser(
    password: string,
    role: "admin" | "member" = "member",
  ): Promise<{ email: string; password: string }> {
    const email = `disposable-${randomUUID()}@demo.test`;
    await db().query(
      `INSERT INTO users (id, tenant_id, email, password_hash, role, name) VALUES (gen_random_uuid(), $1, $2, $3, $4::user_role, 'Sam Disposable')`,
      [DEMO_TENANT_ID, email, await bcrypt.hash(password, 4), role],
    );
    return { email, password };
  },
  async setRole(email: string, role: "admin" | "member") {
    await db().query(`UPDATE users SET role = $2::user_role WHERE email = $1`, [email, role]);
  },
  async operatorAlert(kind: string, on: boolean) {
    if (!on) return void (await db().query(`UPDATE operator_alerts SET cleared_at = now() WHERE kind = $1`, [kind]));
    await db().query(
      `INSERT INTO operator_alerts (kind, message, first_seen_at, last_seen_at) VALUES ($1, 'e2e', now(), now())
       ON CONFLICT (kind) DO UPDATE SET cleared_at = NULL, first_seen_at = now(), last_seen_at = now()`,
      [kind],
    );
  },
  async openStates(tenantId: string): Promise<number> {
    return (
      await db().query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pipedrive_oauth_states WHERE tenant_id = $1 AND consumed_at IS NULL`,
        [tenantId],
      )
    ).rows[0]!.n;
  },
  async expireAccessToken(tenantId: string) {
    await db().query(
      `UPDATE lead_pipedrive_integrations SET expires_at = now() - interval '1 minute' WHERE tenant_id = $1`,
      [tenantId],
    );
  },
  async end() {
    await pool?.end();
    pool = undefined;
  },
};
