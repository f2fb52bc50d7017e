import { describe, expect, it } from "vitest";

import { MOCK_COMPANY } from "../../testing/mock-pipedrive/index.ts";
import { connectThroughMock, createTenant, mockPipedriveForFile } from "../../testing/support/vitest-harness.ts";
import { sql } from "../db.ts";
import { disconnect } from "./connect/disconnect.ts";
import { markApiRefused } from "./connection/connection-store.ts";
import { removeConnection } from "./connection/grant-store.ts";
import { auditEvents, lastUninstall } from "./settings-view-store.ts";
import { ACTIVITY_PAGE, loadActivity } from "./settings-view.ts";

// The activity log: who did what to which Pipedrive company, this workspace's only, paged.

const pd = mockPipedriveForFile();

describe("the activity log", () => {
  it("names the admin who acted and the Pipedrive company, also for what Pipedrive or a lookup changed", async () => {
    const { tenantId, admin } = await createTenant("Activity A");
    await connectThroughMock(pd.ctx, pd.mock, admin);
    await markApiRefused(
      tenantId,
      "subscription_lapsed",
      { detail: "402 from Pipedrive", call: "users/me" },
      new Date(),
    );
    await disconnect(pd.ctx, admin);

    const events = await auditEvents(tenantId, { take: 10 });
    expect(events.map((e) => [e.event, e.actorName, e.detail.companyName])).toEqual([
      ["disconnected", admin.name, MOCK_COMPANY.name],
      ["subscription_lapsed", null, MOCK_COMPANY.name],
      ["connected", admin.name, MOCK_COMPANY.name],
    ]);
  });

  it("shows a workspace only its own entries, and never another workspace's user as the actor", async () => {
    const a = await createTenant("Activity B");
    const b = await createTenant("Activity C");
    await connectThroughMock(pd.ctx, pd.mock, a.admin);
    // An entry of B's that (wrongly) names A's admin shows no actor, and A never sees it.
    await sql().query(
      `INSERT INTO pipedrive_audit_events (tenant_id, actor_user_id, event) VALUES ($1, $2, 'disconnected')`,
      [b.tenantId, a.admin.id],
    );
    expect((await auditEvents(a.tenantId, { take: 10 })).map((e) => e.event)).toEqual(["connected"]);
    expect(await auditEvents(b.tenantId, { take: 10 })).toMatchObject([{ event: "disconnected", actorName: null }]);
  });

  it("pages back 50 at a time, newest first, and only for admins", async () => {
    const { tenantId, admin, member } = await createTenant("Activity D");
    await sql().query(
      `INSERT INTO pipedrive_audit_events (tenant_id, actor_user_id, event, detail)
       SELECT $1, $2, 'connect_cancelled', jsonb_build_object('n', n) FROM generate_series(1, $3::int) AS n`,
      [tenantId, admin.id, ACTIVITY_PAGE + 3],
    );
    const first = await loadActivity(admin, null);
    expect(first.events).toHaveLength(ACTIVITY_PAGE);
    expect(first.events[0]?.detail.n).toBe(ACTIVITY_PAGE + 3);
    expect(first.older).toBe(first.events.at(-1)!.id);
    const second = await loadActivity(admin, first.older);
    expect(second.events.map((e) => e.detail.n)).toEqual([3, 2, 1]);
    expect(second.older).toBeNull();
    // A "before" that is not an id is the first page, not an error.
    expect((await loadActivity(admin, "1 OR 1=1")).events[0]?.detail.n).toBe(ACTIVITY_PAGE + 3);
    expect(await loadActivity(member, null)).toEqual({ events: [], older: null });
  });
});

describe("an uninstall in Pipedrive", () => {
  it("is what the page says while nothing is connected, until someone connects or disconnects again", async () => {
    const { tenantId, admin } = await createTenant("Activity E");
    expect(await lastUninstall(tenantId)).toBeNull();
    const { who } = await connectThroughMock(pd.ctx, pd.mock, admin);
    expect(await removeConnection(tenantId, "uninstalled", null, {})).toBe(true);
    const since = await lastUninstall(tenantId);
    expect(since?.at).toBeInstanceOf(Date);
    expect(since?.pipedriveUserName).toBe(`Mock User ${who.userId}`);
    expect((await auditEvents(tenantId, { take: 1 }))[0]).toMatchObject({
      event: "uninstalled",
      actorName: null,
      detail: { companyName: MOCK_COMPANY.name, pipedriveUserName: `Mock User ${who.userId}` },
    });
    // A failed connect afterwards does not hide why the workspace is not connected.
    await sql().query(`INSERT INTO pipedrive_audit_events (tenant_id, event) VALUES ($1, 'connect_failed')`, [
      tenantId,
    ]);
    expect(await lastUninstall(tenantId)).toEqual(since);
    await connectThroughMock(pd.ctx, pd.mock, admin);
    expect(await lastUninstall(tenantId)).toBeNull();
  });
});
