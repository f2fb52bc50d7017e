import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

import { describe, expect, inject, it } from "vitest";

import { raceInProcesses } from "../../../testing/support/race.ts";
import {
  auditEvents,
  auditTrail,
  connectedTenant as connectedTenantOf,
  connectionRow,
  expireAccessToken,
  foreignRefresherForFile,
  mockPipedriveForFile,
  testContext,
  tokenRequests,
  tokenRow,
  waitUntil,
} from "../../../testing/support/vitest-harness.ts";
import { db } from "../../db.ts";
import { isAppError } from "../../errors.ts";
import { sleep } from "../client/http.ts";
import { loadSettingsView } from "../settings-view.ts";
import { getValidAccessToken } from "./access.ts";
import { repairApiDomain, repairApiDomains } from "./contract-store.ts";

// Living with the lead-enrichment service, which refreshes the same rows without our lock.

const pd = mockPipedriveForFile();
const foreign = foreignRefresherForFile(pd, () => inject("databaseUrl"));

const connectedTenant = () => connectedTenantOf(pd);
const expire = expireAccessToken;

describe("a foreign refresher that wins the race while we hold the lock", () => {
  it("never turns its rotation into a false needs_reconnect, and serves every caller (20 runs)", async () => {
    // Real waits: the foreign write must get the chance to land.
    const ctx = testContext(pd.mock, { sleep });
    const runs = 20;
    const callers = 10;
    let falseAlarms = 0;
    let served = 0;
    let oursRefused = 0;
    for (let run = 0; run < runs; run++) {
      const { tenantId } = await connectedTenant();
      await expire(tenantId);
      // Only a rotating Pipedrive can refuse us because someone else refreshed first.
      pd.mock.configure({ refreshRotation: true });
      // Pipedrive rotates on arrival. The foreign answer is held until our refresh (sent second,
      // refused) has reached Pipedrive, and ours takes 300 ms more to come back: the foreign
      // UPDATE lands, or queues on our lock, while we still hold it. On every run, whatever the load.
      pd.mock.setFaults({ holdBodyRepliesForBasic: true, tokenReplyDelayMs: { basic: 300 } });
      const theirs = foreign.getToken(tenantId);
      await waitUntil(
        () => tokenRequests(pd.mock, "refresh_token").some((r) => r.clientAuth === "body"),
        "the foreign refresh to reach Pipedrive",
      );
      const ours = await Promise.all(
        Array.from({ length: callers }, () =>
          getValidAccessToken(ctx, tenantId).then(
            (t) => t.accessToken,
            () => null,
          ),
        ),
      );
      const their = await theirs;
      const row = await tokenRow(tenantId);
      if ((await connectionRow(tenantId))?.status !== "connected") falseAlarms++;
      served += ours.filter((token) => token !== null && token === row?.accessToken).length;
      oursRefused += tokenRequests(pd.mock, "refresh_token").filter(
        (r) => r.clientAuth === "basic" && r.status === 400,
      ).length;
      expect(their).toMatchObject({ refreshed: true, error: null });
    }
    console.info(
      `[coexistence] ${runs} runs × ${callers} callers: ${falseAlarms} false needs_reconnect, ${served}/${runs * callers} callers served, ${oursRefused} of our refreshes refused by the foreign rotation`,
    );
    // The race really happened: our refresh was refused in every run.
    expect(oursRefused).toBe(runs);
    expect(falseAlarms).toBe(0);
    expect(served).toBe(runs * callers);
  }, 120_000);
});

describe("a foreign refresher racing ours when Pipedrive does not rotate (as documented)", () => {
  it("leaves both holding working tokens and never marks the tenant (10 runs)", async () => {
    const ctx = testContext(pd.mock, { sleep });
    let falseAlarms = 0;
    let working = 0;
    for (let run = 0; run < 10; run++) {
      const { tenantId } = await connectedTenant();
      await expire(tenantId);
      pd.mock.configure({ refreshRotation: false });
      pd.mock.setFaults({ holdBodyRepliesForBasic: true, tokenReplyDelayMs: { basic: 300 } });
      const theirs = foreign.getToken(tenantId);
      await waitUntil(
        () => tokenRequests(pd.mock, "refresh_token").some((r) => r.clientAuth === "body"),
        "the foreign refresh to reach Pipedrive",
      );
      const ours = await getValidAccessToken(ctx, tenantId);
      expect(await theirs).toMatchObject({ refreshed: true, error: null });
      if ((await connectionRow(tenantId))?.status !== "connected") falseAlarms++;
      const row = await tokenRow(tenantId);
      for (const token of [ours.accessToken, row!.accessToken]) {
        const me = await fetch(`${pd.mock.url}/api/v1/users/me`, { headers: { Authorization: `Bearer ${token}` } });
        if (me.status === 200) working++;
      }
    }
    expect(falseAlarms).toBe(0);
    expect(working).toBe(20);
  }, 60_000);
});

describe("a grant that is really gone", () => {
  it("is marked once; a process queued on the lock sees the verdict and does not resend the refused token", async () => {
    const { tenantId } = await connectedTenant();
    await expire(tenantId);
    pd.mock.setFaults({ token: { mode: "invalid_grant" }, tokenLatencyMs: 300 });
    const worker = path.join(import.meta.dirname, "../../../testing/support/refresh-worker.ts");
    const results = await raceInProcesses(worker, [tenantId, "1", pd.mock.url, pd.mock.host], 2);
    expect(results.map((r) => r.ok)).toEqual([false, false]);
    expect(results.every((r) => /refresh token rejected|no longer accepts/.test(r.error ?? ""))).toBe(true);
    expect(tokenRequests(pd.mock, "refresh_token")).toHaveLength(1);
    expect(await connectionRow(tenantId)).toMatchObject({ status: "needs_reconnect" });
    expect((await auditEvents(tenantId)).filter((e) => e.event === "refresh_failed")).toHaveLength(1);
  }, 30_000);
});

describe("needs_reconnect heals itself", () => {
  it("tries a refresh token that another writer put in the row, and on success is connected again", async () => {
    const { tenantId } = await connectedTenant();
    await expire(tenantId);
    // Pipedrive refuses our refresh once; the grant itself lives on.
    pd.mock.setFaults({ token: { mode: "invalid_grant", times: 1 } });
    expect(isAppError(await getValidAccessToken(pd.ctx, tenantId).catch((e: unknown) => e), "needs_reconnect")).toBe(
      true,
    );
    expect(await connectionRow(tenantId)).toMatchObject({ status: "needs_reconnect" });
    const refusedBefore = tokenRequests(pd.mock).length;
    // Still the refused token: no call at all.
    expect(isAppError(await getValidAccessToken(pd.ctx, tenantId).catch((e: unknown) => e), "needs_reconnect")).toBe(
      true,
    );
    expect(tokenRequests(pd.mock)).toHaveLength(refusedBefore);

    // The other service rotates the (still working) grant and writes its answer back.
    expect(await foreign.getToken(tenantId)).toMatchObject({ refreshed: true, error: null });
    const token = await getValidAccessToken(pd.ctx, tenantId);
    expect(token.accessToken).toBe((await tokenRow(tenantId))?.accessToken);
    expect(await connectionRow(tenantId)).toMatchObject({
      status: "connected",
      lastError: null,
      rejectedRefreshTokenHash: null,
    });
    expect(await auditTrail(tenantId)).toEqual(["connected", "refresh_failed", "recovered"]);
  });
});

describe("api_domain written by another service", () => {
  it("is repaired to a bare host on read, without a refresh", async () => {
    const { tenantId } = await connectedTenant();
    await db().leadPipedriveIntegration.update({ where: { tenantId }, data: { apiDomain: `https://${pd.mock.host}` } });
    const token = await getValidAccessToken(pd.ctx, tenantId);
    expect(token.apiBaseUrl).toBe(`http://${pd.mock.host}`);
    expect((await tokenRow(tenantId))?.apiDomain).toBe(pd.mock.host);
    expect(tokenRequests(pd.mock)).toHaveLength(0);
  });

  it("reads as its host on the settings page, which writes nothing; the keeper's pass repairs it", async () => {
    const { tenantId, admin } = await connectedTenant();
    await db().leadPipedriveIntegration.update({ where: { tenantId }, data: { apiDomain: `https://${pd.mock.host}` } });
    const page = await loadSettingsView(pd.ctx, admin, null);
    expect(page.connection).toMatchObject({ hostAllowed: true, apiHost: pd.mock.host });
    expect((await tokenRow(tenantId))?.apiDomain).toBe(`https://${pd.mock.host}`);
    expect(await repairApiDomains()).toBeGreaterThanOrEqual(1);
    expect((await tokenRow(tenantId))?.apiDomain).toBe(pd.mock.host);
    expect(pd.mock.requests()).toHaveLength(0);
    // A host nobody may call is left as it is, for the page to say so.
    await db().leadPipedriveIntegration.update({
      where: { tenantId },
      data: { apiDomain: "https://evil.example.com" },
    });
    expect((await loadSettingsView(pd.ctx, admin, null)).connection).toMatchObject({ hostAllowed: false });
    await repairApiDomains();
    expect((await tokenRow(tenantId))?.apiDomain).toBe("https://evil.example.com");
  });

  it("is repaired only if nobody wrote the row since we read it", async () => {
    const { tenantId } = await connectedTenant();
    await db().leadPipedriveIntegration.update({
      where: { tenantId },
      data: { apiDomain: "https://newer.pipedrive.com" },
    });
    expect(await repairApiDomain(tenantId, `https://${pd.mock.host}`, pd.mock.host)).toBe(false);
    expect((await tokenRow(tenantId))?.apiDomain).toBe("https://newer.pipedrive.com");
  });

  it("is refused with api_domain_invalid when it is not a Pipedrive host, and no token is sent there", async () => {
    const seen: string[] = [];
    const trap = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ""}`);
      res.end("{}");
    });
    await new Promise<void>((resolve) => trap.listen(0, "127.0.0.1", resolve));
    const trapHost = `127.0.0.1:${(trap.address() as AddressInfo).port}`;
    try {
      const { tenantId } = await connectedTenant();
      for (const stored of [trapHost, `http://${trapHost}`, "evil.example", "acme.pipedrive.com.evil.example"]) {
        await db().leadPipedriveIntegration.update({ where: { tenantId }, data: { apiDomain: stored } });
        const failure = await getValidAccessToken(pd.ctx, tenantId).catch((e: unknown) => e);
        expect(isAppError(failure, "api_domain_invalid"), stored).toBe(true);
        await expire(tenantId);
        expect(
          isAppError(await getValidAccessToken(pd.ctx, tenantId).catch((e: unknown) => e), "api_domain_invalid"),
        ).toBe(true);
      }
      expect(seen).toEqual([]);
      expect(tokenRequests(pd.mock)).toHaveLength(0);
      expect((await tokenRow(tenantId))?.apiDomain).toBe("acme.pipedrive.com.evil.example");
    } finally {
      await new Promise((resolve) => trap.close(resolve));
    }
  });
});
