import { readFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { DEMO_TENANT_ID, OTHER_TENANT_ID, STATE_DIR } from "./env.ts";

// Direct access to the suite's database, for assertions and for resetting between tests.

let pool: pg.Pool | undefined;
function db() {
  pool ??= new pg.Pool({ connectionString: readFileSync(path.join(STATE_DIR, "database-url"), "utf8").trim(), max: 2 });
  return pool;
}

export type ContractRow = { tenant_id: string; access_token: string; refresh_token: string; expires_at: Date; api_domain: string };

export const testDb = {
  async resetTenants() {
    const ids = [DEMO_TENANT_ID, OTHER_TENANT_ID];
    await db().query(`DELETE FROM lead_pipedrive_integrations WHERE tenant_id = ANY($1::uuid[])`, [ids]);
    await db().query(`DELETE FROM pipedrive_connections WHERE tenant_id = ANY($1::uuid[])`, [ids]);
    await db().query(`DELETE FROM pipedrive_audit_events WHERE tenant_id = ANY($1::uuid[])`, [ids]);
    await db().query(`DELETE FROM pipedrive_oauth_states WHERE tenant_id = ANY($1::uuid[])`, [ids]);
  },
  async contractRows(tenantId: string): Promise<ContractRow[]> {
    return (await db().query<ContractRow>(`SELECT * FROM lead_pipedrive_integrations WHERE tenant_id = $1`, [tenantId])).rows;
  },
  async connection(tenantId: string) {
    return (await db().query<{ status: string; last_error: string | null }>(`SELECT status::text, last_error FROM pipedrive_connections WHERE tenant_id = $1`, [tenantId])).rows[0] ?? null;
  },
  async auditEvents(tenantId: string): Promise<string[]> {
    return (await db().query<{ event: string }>(`SELECT event FROM pipedrive_audit_events WHERE tenant_id = $1 ORDER BY id`, [tenantId])).rows.map((r) => r.event);
  },
  /** Moves the tenant's open OAuth states past their expiry: the test's clock. */
  async expireStates(tenantId: string) {
    await db().query(`UPDATE pipedrive_oauth_states SET expires_at = now() - interval '1 second' WHERE tenant_id = $1`, [tenantId]);
  },
  /** What Pipedrive can send us that is longer than any layout expects. */
  async setConnectionDetails(tenantId: string, details: { companyName: string; companyDomain: string; pipedriveUserName: string; connectedByName: string }) {
    await db().query(
      `UPDATE pipedrive_connections SET company_name = $2, company_domain = $3, pipedrive_user_name = $4, connected_by_name = $5 WHERE tenant_id = $1`,
      [tenantId, details.companyName, details.companyDomain, details.pipedriveUserName, details.connectedByName],
    );
  },
  async expireAccessToken(tenantId: string) {
    await db().query(`UPDATE lead_pipedrive_integrations SET expires_at = now() - interval '1 minute' WHERE tenant_id = $1`, [tenantId]);
  },
  async end() {
    await pool?.end();
    pool = undefined;
  },
};
