import { afterEach, describe, expect, it } from "vitest";

import { connectedTenant, mockPipedriveForFile } from "../../testing/support/vitest-harness.ts";
import { sql } from "../db.ts";
import { isAppError } from "../errors.ts";
import { conditionsInForce } from "./conditions.ts";
import { loadLookup } from "./lookup/lookup-store.ts";
import { runLookup } from "./lookup/lookup.ts";
import { BATCH_PATIENCE, searchPersonsByPhone } from "./lookup/person-search.ts";
import { loadSettingsView } from "./settings-view.ts";
import { probeConnection } from "./tokens/access.ts";

// A company Pipedrive has paused is paused for every caller, whatever form the stored
// api_domain was written in: the other service writes it back as https://host.

const pd = mockPipedriveForFile();
const host = () => pd.mock.host;
const apiCalls = () => pd.mock.requests().filter((r) => r.path.startsWith("/api/")).length;

afterEach(async () => {
  await sql().query(`DELETE FROM pipedrive_rate_limits WHERE api_host = $1`, [host()]);
});

async function pausedTenant(form: string) {
  const t = await connectedTenant(pd);
  await sql().query(
    `INSERT INTO pipedrive_rate_limits (api_host, blocked_until, reason, updated_at)
     VALUES ($1, now() + interval '1 hour', 'test', now())
     ON CONFLICT (api_host) DO UPDATE SET blocked_until = EXCLUDED.blocked_until`,
    [host()],
  );
  const write = () =>
    sql().query(`UPDATE lead_pipedrive_integrations SET api_domain = $2 WHERE tenant_id = $1`, [t.tenantId, form]);
  await write();
  pd.mock.reset();
  return { ...t, write };
}

const FORMS: [string, (host: string) => string][] = [
  ["bare", (h) => h],
  ["https://host", (h) => `https://${h}`],
  ["https://host/", (h) => `https://${h}/`],
  ["upper case", (h) => h.toUpperCase()],
  ["HTTPS://HOST/", (h) => `HTTPS://${h.toUpperCase()}/`],
];

describe.each(FORMS)("a paused company, api_domain written %s", (_, form) => {
  it("makes no call from the page's lookup, and says the pause", async () => {
    const t = await pausedTenant(form(host()));
    const ran = await runLookup(pd.ctx, t.member, "+55 11 99999-0001");
    if (!("id" in ran)) throw new Error("refused");
    expect((await loadLookup(t.member, ran.id, new Date()))?.problem).toMatch(
      /request limit for this company is used up/,
    );
    expect(apiCalls()).toBe(0);
  });

  it("makes no call from a service's lookup (the enrich CLI's path)", async () => {
    const t = await pausedTenant(form(host()));
    const failure = await searchPersonsByPhone(pd.ctx, t.tenantId, "+55 11 99999-0001", {
      patience: BATCH_PATIENCE,
    }).catch((e: unknown) => e);
    expect(isAppError(failure, "rate_limited")).toBe(true);
    expect(apiCalls()).toBe(0);
  });

  it("makes no call from the keeper's look", async () => {
    const t = await pausedTenant(form(host()));
    await sql().query(`UPDATE pipedrive_connections SET status = 'access_forbidden' WHERE tenant_id = $1`, [
      t.tenantId,
    ]);
    await expect(probeConnection(pd.ctx, t.tenantId)).rejects.toThrow(/rate-limited/);
    expect(apiCalls()).toBe(0);
  });

  it("shows on the page and in the status view", async () => {
    const t = await pausedTenant(form(host()));
    const { rows } = await sql().query(`SELECT status FROM lead_pipedrive_integration_status WHERE tenant_id = $1`, [
      t.tenantId,
    ]);
    expect(rows).toEqual([{ status: "paused" }]);
    await t.write();
    const view = await loadSettingsView(pd.ctx, t.admin, null);
    const conditions = conditionsInForce({
      connection: view.connection!,
      appCredentialsRejectedSince: null,
      keeper: view.keeper,
      isAdmin: true,
    });
    expect(conditions.map((c) => c.kind)).toContain("paused");
  });
});
