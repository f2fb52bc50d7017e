import type { ChildProcess } from "node:child_process";

import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";

import { startScript } from "../../../testing/support/run-script.ts";
import {
  connectedTenant as connectedTenantOf,
  connectionRow,
  expectedRefreshToken,
  expireAccessToken,
  mockPipedriveForFile,
  testContext,
  tokenRequests,
  tokenRow,
  waitUntil,
} from "../../../testing/support/vitest-harness.ts";
import { db, REFRESH_POOL_SIZE, sql } from "../../db.ts";
import { isAppError } from "../../errors.ts";
import { sleep } from "../client/http.ts";
import { searchPersonsByPhone } from "../lookup/person-search.ts";
import { getValidAccessToken } from "../tokens/access.ts";
import { dueConnections } from "./keeper-store.ts";
import { QUEUES, startKeeper, type Keeper, type RenewOutcome } from "./keeper.ts";

const pd = mockPipedriveForFile();
const keepers: Keeper[] = [];
afterEach(async () => {
  await Promise.all(keepers.splice(0).map((k) => k.stop()));
});

const connectedTenant = () => connectedTenantOf(pd);
const expireToken = expireAccessToken;

/** Token expires in `minutes`; the keeper's next visit is now. */
async function dueIn(tenantId: string, minutes: number) {
  await db().leadPipedriveIntegration.update({
    where: { tenantId },
    data: { expiresAt: new Date(Date.now() + minutes * 60_000) },
  });
  await db().pipedriveConnection.update({ where: { tenantId }, data: { nextRefreshAt: new Date(Date.now() - 1_000) } });
}

async function keeper(concurrency = 2) {
  const started = await startKeeper({
    databaseUrl: inject("databaseUrl"),
    ctx: testContext(pd.mock, { sleep }),
    concurrency,
    log: () => {},
    pollingIntervalSeconds: 0.5,
  });
  keepers.push(started);
  return started;
}

/** Waits until pg-boss holds no renewal for these tenants that is yet to run or running. */
async function untilNoRenewalQueuedFor(tenantIds: string[]) {
  for (;;) {
    const { rows } = await sql().query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pgboss.job
       WHERE name = $1 AND data->>'tenantId' = ANY($2::text[]) AND state IN ('created', 'retry', 'active')`,
      [QUEUES.renew, tenantIds],
    );
    if (rows[0]!.n === 0) return;
    await sleep(50);
  }
}

/** The keeper's outcomes for these tenants; it scans the whole test database, others' too. */
function outcomes(k: Keeper, tenantIds: string[]): Promise<Map<string, RenewOutcome>> {
  const seen = new Map<string, RenewOutcome>();
  return new Promise((resolve) => {
    k.onRenewed((tenantId, outcome) => {
      if (!tenantIds.includes(tenantId)) return;
      seen.set(tenantId, outcome);
      if (seen.size === tenantIds.length) resolve(seen);
    });
  });
}

describe("the token keeper", () => {
  it("renews a token entering its window, and sets the next visit; fresh ones stay untouched", async () => {
    const due = await connectedTenant();
    const fresh = await connectedTenant();
    pd.mock.reset();
    await dueIn(due.tenantId, 10);
    const k = await keeper();
    const done = outcomes(k, [due.tenantId]);
    expect(await dueConnections(new Date(), 10_000)).toContain(due.tenantId);
    // The scan reads the whole test database: suites running beside this one may have tenants due too.
    const scanned = await k.scan();
    expect(scanned.queued).toBeGreaterThanOrEqual(1);
    expect([...(await done)]).toEqual([[due.tenantId, "renewed"]]);
    expect(tokenRequests(pd.mock, "refresh_token")).toHaveLength(1);
    const row = await tokenRow(due.tenantId);
    const connection = await connectionRow(due.tenantId);
    expect(row!.expiresAt.getTime()).toBeGreaterThan(Date.now() + 3_500_000);
    // Next visit: 15 minutes before the new expiry.
    expect(Math.abs(connection!.nextRefreshAt!.getTime() - (row!.expiresAt.getTime() - 900_000))).toBeLessThan(1_000);
    expect(connection?.lastRefreshedAt).not.toBeNull();
    expect(await dueConnections(new Date(), 10_000)).not.toContain(fresh.tenantId);
  });

  it("renews a refresh token left unused for 30 days, though its access token is still fresh", async () => {
    const { tenantId } = await connectedTenant();
    pd.mock.reset();
    const monthAgo = new Date(Date.now() - 31 * 86_400_000);
    await db().pipedriveConnection.update({
      where: { tenantId },
      data: { connectedAt: monthAgo, lastRefreshedAt: monthAgo, nextRefreshAt: new Date() },
    });
    const before = await tokenRow(tenantId);
    const k = await keeper();
    const done = outcomes(k, [tenantId]);
    await k.scan();
    expect((await done).get(tenantId)).toBe("renewed");
    expect(expectedRefreshToken(pd.mock, before!.refreshToken, (await tokenRow(tenantId))!.refreshToken)).toBe(true);
  });

  it("leaves a needs-reconnect connection alone until its row holds another refresh token", async () => {
    const { tenantId } = await connectedTenant();
    await dueIn(tenantId, -1);
    pd.mock.setFaults({ token: { mode: "invalid_grant", times: 1 } });
    await getValidAccessToken(pd.ctx, tenantId).catch(() => {});
    pd.mock.reset();
    await db().pipedriveConnection.update({
      where: { tenantId },
      data: { nextRefreshAt: new Date(Date.now() - 1_000) },
    });
    const k = await keeper();
    const done = outcomes(k, [tenantId]);
    await k.scan();
    expect((await done).get(tenantId)).toBe("needs_reconnect");
    expect(tokenRequests(pd.mock)).toHaveLength(0);
    // Checked again in an hour, not every minute.
    expect((await connectionRow(tenantId))!.nextRefreshAt!.getTime()).toBeGreaterThan(Date.now() + 3_000_000);
  });
});

describe("several keeper processes on one database", () => {
  const workers: ChildProcess[] = [];
  beforeAll(() => {
    for (let i = 0; i < 2; i++) {
      workers.push(
        startScript("scripts/worker.ts", {
          CRM_RUNTIME_FILE: "/nonexistent",
          PIPEDRIVE_OAUTH_BASE_URL: pd.mock.url,
          PIPEDRIVE_MOCK_HOST: pd.mock.host,
          KEEPER_CONCURRENCY: "4",
        }),
      );
    }
  });
  afterAll(async () => {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise((resolve) =>
            w.exitCode !== null ? resolve(null) : (w.once("exit", resolve), w.kill("SIGTERM")),
          ),
      ),
    );
  });

  it("renew each due tenant exactly once, however many scans queue it", async () => {
    const tenants = await Promise.all(Array.from({ length: 30 }, () => connectedTenant()));
    pd.mock.reset();
    pd.mock.setFaults({ tokenLatencyMs: 50 });
    for (const { tenantId } of tenants) await dueIn(tenantId, 5);
    // Two schedulers scanning at once, and again while the workers are busy.
    const scanner = await keeper(0);
    await Promise.all([scanner.scan(), scanner.scan()]);
    const ids = tenants.map((t) => t.tenantId);
    // Waits on the outcome, not the clock: on a busy machine the renewals may take a while.
    for (let i = 0; i < 500; i++) {
      const { rows } = await sql().query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pipedrive_connections WHERE tenant_id = ANY($1::uuid[]) AND last_refreshed_at IS NOT NULL`,
        [ids],
      );
      if (rows[0]!.n === ids.length) break;
      if (i === 20) await scanner.scan();
      await sleep(100);
    }
    await scanner.scan();
    // Every renewal queued for these tenants has run (none waits or runs): then count.
    await untilNoRenewalQueuedFor(ids);
    expect(tokenRequests(pd.mock, "refresh_token")).toHaveLength(30);
    for (const { tenantId } of tenants) expect(await connectionRow(tenantId)).toMatchObject({ status: "connected" });
  }, 60_000);
});

describe("outages stay contained", () => {
  it("a valid token is read while other tenants' refreshes hang, using no connection the rest needs", async () => {
    const healthy = await connectedTenant();
    // More than the main pool's 10 connections: held across their calls, they would starve it.
    const stale = await Promise.all(Array.from({ length: 12 }, () => connectedTenant()));
    for (const { tenantId } of stale) await expireToken(tenantId);
    pd.mock.reset();
    pd.mock.setFaults({ holdTokenRequests: true });
    // A timeout longer than the test: the held requests must not give up and retry.
    const ctx = testContext(pd.mock, { timeoutMs: 60_000 });
    let refreshesDone = 0;
    const refreshing = stale.map(({ tenantId }) => getValidAccessToken(ctx, tenantId).finally(() => refreshesDone++));
    try {
      // As many refreshes as the refresh pool allows are now hanging at Pipedrive; the rest queue.
      await waitUntil(() => pd.mock.heldTokenRequests() >= REFRESH_POOL_SIZE, "refreshes to reach Pipedrive", 10_000);
      const token = await getValidAccessToken(ctx, healthy.tenantId);
      expect(pd.mock.heldTokenRequests()).toBe(REFRESH_POOL_SIZE);
      expect(refreshesDone).toBe(0);
      expect(token.accessToken).toBe((await tokenRow(healthy.tenantId))?.accessToken);
    } finally {
      pd.mock.releaseTokenRequests();
      await Promise.allSettled(refreshing);
    }
    expect(tokenRequests(pd.mock, "refresh_token")).toHaveLength(12);
  });

  it("stops calling a failing token endpoint for a cool-down instead of making every tenant wait", async () => {
    const tenants = await Promise.all(Array.from({ length: 3 }, () => connectedTenant()));
    for (const { tenantId } of tenants) await expireToken(tenantId);
    pd.mock.reset();
    pd.mock.setFaults({ token: { mode: "500" } });
    const ctx = testContext(pd.mock);
    const results = [];
    for (const { tenantId } of tenants) results.push(await getValidAccessToken(ctx, tenantId).catch((e: unknown) => e));
    expect(results.every((r) => isAppError(r, "pipedrive_unavailable"))).toBe(true);
    // 3 attempts for the first tenant, 2 more open the breaker; the third tenant costs nothing.
    expect(tokenRequests(pd.mock, "refresh_token")).toHaveLength(5);
    for (const { tenantId } of tenants) expect(await connectionRow(tenantId)).toMatchObject({ status: "connected" });
  });

  it("a spent daily budget stops every process until it lifts, not only the one that saw the 429", async () => {
    const { tenantId } = await connectedTenant();
    pd.mock.reset();
    pd.mock.configure({ profile: "strict", dailyBudget: 0 });
    const first = await searchPersonsByPhone(testContext(pd.mock), tenantId, "+55 11 99999-0001").catch(
      (e: unknown) => e,
    );
    expect(isAppError(first, "rate_limited")).toBe(true);
    const callsSoFar = pd.mock.requests().length;
    // Another process: a context of its own, with no memory of that 429.
    const other = await searchPersonsByPhone(testContext(pd.mock), tenantId, "+55 11 99999-0001").catch(
      (e: unknown) => e,
    );
    expect(isAppError(other, "rate_limited") && other.retryAt?.getTime()).toBe(
      isAppError(first) && first.retryAt?.getTime(),
    );
    expect(pd.mock.requests()).toHaveLength(callsSoFar);
  });
});
