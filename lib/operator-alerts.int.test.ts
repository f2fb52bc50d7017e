import pg from "pg";
import { describe, expect, inject, it } from "vitest";

import { ownDatabaseForFile } from "../testing/support/scratch-databases.ts";
import {
  connectionRow,
  connectThroughMock,
  createTenant,
  mockPipedriveForFile,
  testContext,
} from "../testing/support/vitest-harness.ts";
import { db, sql } from "./db.ts";
import { isAppError } from "./errors.ts";
import { activeAlerts, APP_CREDENTIALS_REJECTED, raiseAlert, reportAppCredentials } from "./operator-alert-store.ts";
import { getValidAccessToken } from "./pipedrive/tokens/access.ts";

// The alert covers every workspace: on the run's shared database it would show the connections of
// every file running beside this one as unavailable while it lasts.
const database = new URL(await ownDatabaseForFile("crm_operator_alerts")).pathname.slice(1);
const pd = mockPipedriveForFile();

async function activeAlertsOnSharedDatabase(): Promise<string[]> {
  const client = new pg.Client({ connectionString: inject("databaseUrl") });
  await client.connect();
  try {
    const { rows } = await client.query<{ kind: string }>(`SELECT kind FROM operator_alerts WHERE cleared_at IS NULL`);
    return rows.map((r) => r.kind);
  } finally {
    await client.end();
  }
}

describe("Pipedrive rejecting this app's credentials", () => {
  it("raises an operator alert, never marks a tenant, and clears when the credentials work again", async () => {
    expect((await sql().query<{ name: string }>(`SELECT current_database() AS name`)).rows[0]!.name).toBe(database);
    const tenants = [await createTenant(), await createTenant()];
    for (const t of tenants) await connectThroughMock(pd.ctx, pd.mock, t.admin);
    for (const t of tenants)
      await db().leadPipedriveIntegration.update({
        where: { tenantId: t.tenantId },
        data: { expiresAt: new Date(Date.now() - 60_000) },
      });
    const rotated = testContext(pd.mock, {
      clientSecret: "rotated-on-pipedrive's-side",
      onClientCredentials: reportAppCredentials,
    });
    for (const t of tenants)
      expect(
        isAppError(await getValidAccessToken(rotated, t.tenantId).catch((e: unknown) => e), "app_credentials_rejected"),
      ).toBe(true);
    expect((await activeAlerts()).map((a) => a.kind)).toContain(APP_CREDENTIALS_REJECTED);
    expect(await activeAlertsOnSharedDatabase()).toEqual([]);
    for (const t of tenants)
      expect(await connectionRow(t.tenantId)).toMatchObject({ status: "connected", rejectedRefreshTokenHash: null });

    const fixed = testContext(pd.mock, { onClientCredentials: reportAppCredentials });
    await getValidAccessToken(fixed, tenants[0]!.tenantId);
    expect((await activeAlerts()).map((a) => a.kind)).not.toContain(APP_CREDENTIALS_REJECTED);
  });
});

describe("Pipedrive accepting this app's credentials", () => {
  it("is written once a minute per process, not once a token answer", async () => {
    await reportAppCredentials(false);
    await reportAppCredentials(true);
    expect((await activeAlerts()).map((a) => a.kind)).not.toContain(APP_CREDENTIALS_REJECTED);
    // Raised by another process since: this one's next acceptances within the minute write nothing.
    await raiseAlert(APP_CREDENTIALS_REJECTED, "seen by another instance", new Date());
    for (let i = 0; i < 20; i++) await reportAppCredentials(true);
    expect((await activeAlerts()).map((a) => a.kind)).toContain(APP_CREDENTIALS_REJECTED);
    // A rejection seen here makes the next acceptance written at once.
    await reportAppCredentials(false);
    await reportAppCredentials(true);
    expect((await activeAlerts()).map((a) => a.kind)).not.toContain(APP_CREDENTIALS_REJECTED);
  });
});
