import { randomUUID } from "node:crypto";

import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { ownDatabaseForFile } from "../testing/support/scratch-databases.ts";
import { connectedTenant, mockPipedriveForFile } from "../testing/support/vitest-harness.ts";
import { APP_CREDENTIALS_REJECTED, clearAlert, raiseAlert } from "./operator-alert-store.ts";
import { CONDITION_WORDS, conditionOf, viewStatusOf } from "./pipedrive/conditions.ts";
import { loadSettingsView } from "./pipedrive/settings-view.ts";

// lead_pipedrive_integration_status is a contract too: the lead-enrichment service checks it
// before calling Pipedrive. Its columns are pinned here, as the drift test pins the token table,
// and a role granted SELECT on it alone can read it and nothing else.

// Raising the app-credentials alert shows every connection as unavailable: on the run's shared
// database, files running beside this one saw no needs_reconnect while it lasted.
const databaseUrl = await ownDatabaseForFile("crm_integration_status");
const pd = mockPipedriveForFile();
let client: pg.Client;
beforeAll(async () => {
  client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
});
afterAll(() => client.end());

/**
 * Runs `work` as a role granted what docs/shared-table.md grants the lead-enrichment service:
 * USAGE on the schema and SELECT on the view, nothing else.
 */
async function asReader(work: (reader: pg.Client) => Promise<void>): Promise<void> {
  const role = `enrichment_${randomUUID().slice(0, 8)}`;
  const password = randomUUID();
  await client.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
  await client.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
  await client.query(`GRANT SELECT ON lead_pipedrive_integration_status TO ${role}`);
  const url = new URL(databaseUrl);
  url.username = role;
  url.password = password;
  const reader = new pg.Client({ connectionString: url.toString() });
  await reader.connect();
  try {
    await work(reader);
  } finally {
    await reader.end();
    await client.query(`REVOKE ALL ON lead_pipedrive_integration_status FROM ${role}`);
    await client.query(`REVOKE USAGE ON SCHEMA public FROM ${role}`);
    await client.query(`DROP ROLE ${role}`);
  }
}

const statusOf = async (tenantId: string) =>
  (await client.query(`SELECT * FROM lead_pipedrive_integration_status WHERE tenant_id = $1`, [tenantId])).rows[0];

describe("lead_pipedrive_integration_status", () => {
  it("has exactly the documented columns, with their types", async () => {
    const { rows } = await client.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'lead_pipedrive_integration_status'
        ORDER BY ordinal_position`,
    );
    expect(rows.map((r) => [r.column_name, r.data_type])).toEqual([
      ["tenant_id", "uuid"],
      ["status", "text"],
      ["reason", "text"],
      ["since", "timestamp with time zone"],
      ["retry_at", "timestamp with time zone"],
      ["next_refresh_at", "timestamp with time zone"],
    ]);
  });

  it("says connected, then the worst active condition, in plain words", async () => {
    const t = await connectedTenant(pd);
    expect(await statusOf(t.tenantId)).toMatchObject({ status: "connected", reason: "Connected.", retry_at: null });

    const host = (
      await client.query(`SELECT api_domain FROM lead_pipedrive_integrations WHERE tenant_id = $1`, [t.tenantId])
    ).rows[0].api_domain as string;
    const until = new Date(Date.now() + 3_600_000);
    await client.query(
      `INSERT INTO pipedrive_rate_limits (api_host, blocked_until, reason) VALUES ($1, $2, 'test')
       ON CONFLICT (api_host) DO UPDATE SET blocked_until = EXCLUDED.blocked_until`,
      [host, until],
    );
    try {
      expect(await statusOf(t.tenantId)).toMatchObject({ status: "paused", retry_at: until });
      await raiseAlert(APP_CREDENTIALS_REJECTED, "test", new Date());
      expect(await statusOf(t.tenantId)).toMatchObject({ status: "unavailable", retry_at: null });
    } finally {
      await clearAlert(APP_CREDENTIALS_REJECTED, new Date());
      await client.query(`DELETE FROM pipedrive_rate_limits WHERE api_host = $1`, [host]);
    }

    const before = (await statusOf(t.tenantId)).since as Date;
    await client.query(`UPDATE pipedrive_connections SET status = 'needs_reconnect' WHERE tenant_id = $1`, [
      t.tenantId,
    ]);
    const broken = await statusOf(t.tenantId);
    expect(broken).toMatchObject({ status: "needs_reconnect", reason: expect.stringMatching(/must reconnect/) });
    expect((broken.since as Date).getTime()).toBeGreaterThanOrEqual(before.getTime());
  });

  it("accepts only the exact mock hosts its table holds: a reader's session setting widens nothing, and it cannot add one", async () => {
    const t = await connectedTenant(pd);
    await asReader(async (reader) => {
      const status = async () =>
        (await reader.query(`SELECT status FROM lead_pipedrive_integration_status WHERE tenant_id = $1`, [t.tenantId]))
          .rows[0]?.status;
      expect(await status()).toBe("connected");
      // Another port on this machine is not the mock, whatever the session says.
      await client.query(`UPDATE lead_pipedrive_integrations SET api_domain = 'localhost:9999' WHERE tenant_id = $1`, [
        t.tenantId,
      ]);
      expect(await status()).toBe("host_unrecognised");
      await reader.query(`SET crm.pipedrive_mock_hosts = 'loopback'`);
      expect(await status()).toBe("host_unrecognised");
      await expect(reader.query(`INSERT INTO pipedrive_mock_hosts (host) VALUES ('localhost:9999')`)).rejects.toThrow(
        /permission denied/,
      );
      expect(await status()).toBe("host_unrecognised");
    });
  });

  it("can be read by a role granted SELECT on it alone, which reads nothing else", async () => {
    const t = await connectedTenant(pd);
    await asReader(async (reader) => {
      const { rows } = await reader.query(`SELECT status FROM lead_pipedrive_integration_status WHERE tenant_id = $1`, [
        t.tenantId,
      ]);
      expect(rows).toEqual([{ status: "connected" }]);
      await expect(reader.query(`SELECT * FROM pipedrive_connections`)).rejects.toThrow(/permission denied/);
      await expect(reader.query(`UPDATE lead_pipedrive_integration_status SET status = 'connected'`)).rejects.toThrow(
        /permission denied|cannot update view/,
      );
    });
  });

  it("agrees with the settings card for every combination of conditions, whoever wrote api_domain", async () => {
    const t = await connectedTenant(pd);
    const host = (
      await client.query(`SELECT api_domain FROM lead_pipedrive_integrations WHERE tenant_id = $1`, [t.tenantId])
    ).rows[0].api_domain as string;
    const statuses = ["connected", "needs_reconnect", "needs_permissions", "subscription_lapsed", "access_forbidden"];
    // As we store it, as the lead-enrichment service writes it back, and a host nobody may call.
    const domains = [host, `https://${host}`, "evil.example.com"];
    const disagreements: string[] = [];
    let checked = 0;
    try {
      for (const status of statuses)
        for (const apiDomain of domains)
          for (const alert of [false, true])
            for (const paused of [false, true])
              for (const checking of [false, true]) {
                // A refused renewal being checked leaves suspected_at set, except once judged.
                await client.query(
                  `UPDATE pipedrive_connections SET status = $2, suspected_at = $3, next_refresh_at = $4 WHERE tenant_id = $1`,
                  [
                    t.tenantId,
                    status,
                    checking && status !== "needs_reconnect" ? new Date(Date.now() - 5_000) : null,
                    new Date(Date.now() + 55_000),
                  ],
                );
                await client.query(`UPDATE lead_pipedrive_integrations SET api_domain = $2 WHERE tenant_id = $1`, [
                  t.tenantId,
                  apiDomain,
                ]);
                if (alert) await raiseAlert(APP_CREDENTIALS_REJECTED, "test", new Date());
                else await clearAlert(APP_CREDENTIALS_REJECTED, new Date());
                await client.query(`DELETE FROM pipedrive_rate_limits WHERE api_host = $1`, [host]);
                if (paused)
                  await client.query(
                    `INSERT INTO pipedrive_rate_limits (api_host, blocked_until, reason) VALUES ($1, $2, 'test')`,
                    [host, new Date(Date.now() + 3_600_000)],
                  );
                const page = await loadSettingsView(pd.ctx, t.admin, null);
                // What a member sees: the keeper's health is an admin's concern only, and not the view's.
                const condition = conditionOf({
                  connection: page.connection!,
                  appCredentialsRejectedSince: page.appCredentialsRejectedSince,
                  keeper: page.keeper,
                  isAdmin: false,
                });
                const view = await statusOf(t.tenantId);
                checked++;
                const expected = {
                  status: viewStatusOf(condition.kind),
                  reason: CONDITION_WORDS[condition.kind].viewReason,
                };
                if (view.status !== expected.status || view.reason !== expected.reason)
                  disagreements.push(
                    `${status} ${apiDomain} alert=${alert} paused=${paused} checking=${checking}: page ${condition.kind}, view ${view.status}`,
                  );
              }
    } finally {
      await clearAlert(APP_CREDENTIALS_REJECTED, new Date());
      await client.query(`DELETE FROM pipedrive_rate_limits WHERE api_host = $1`, [host]);
      await client.query(`UPDATE pipedrive_connections SET suspected_at = NULL WHERE tenant_id = $1`, [t.tenantId]);
    }
    expect(checked).toBe(120);
    expect(disagreements).toEqual([]);
  });
});
