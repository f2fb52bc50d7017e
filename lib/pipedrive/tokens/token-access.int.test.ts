import path from "node:path";

import { describe, expect, it } from "vitest";

import { raceInProcesses } from "../../../testing/support/race.ts";
import {
  auditEvents,
  connectedTenant as connectedTenantOf,
  connectionRow,
  connectThroughMock,
  createTenant,
  expectedRefreshToken,
  expireAccessToken,
  mockPipedriveForFile,
  testContext,
  tokenRequests,
  tokenRow,
} from "../../../testing/support/vitest-harness.ts";
import { db, sql } from "../../db.ts";
import { isAppError } from "../../errors.ts";
import { sleep } from "../client/http.ts";
import { searchPersonsByPhone } from "../lookup/person-search.ts";
import { getValidAccessToken } from "./access.ts";

const pd = mockPipedriveForFile();

const connectedTenant = () => connectedTenantOf(pd);
const expire = expireAccessToken;

const refreshes = () => tokenRequests(pd.mock, "refresh_token").length;

describe("getValidAccessToken", () => {
  it("returns a valid token without refreshing", async () => {
    const { tenantId } = await connectedTenant();
    const row = await tokenRow(tenantId);
    const token = await getValidAccessToken(pd.ctx, tenantId);
    expect(token.accessToken).toBe(row?.accessToken);
    expect(token.apiBaseUrl).toBe(`http://${pd.mock.host}`);
    expect(refreshes()).toBe(0);
  });

  it("refreshes inside the skew window, and stores the refresh token Pipedrive answers with and the new expiry", async () => {
    const { tenantId } = await connectedTenant();
    const before = await tokenRow(tenantId);
    await db().leadPipedriveIntegration.update({
      where: { tenantId },
      data: { expiresAt: new Date(Date.now() + 200_000) },
    });
    const token = await getValidAccessToken(pd.ctx, tenantId);
    const after = await tokenRow(tenantId);
    expect(refreshes()).toBe(1);
    expect(token.accessToken).toBe(after?.accessToken);
    expect(after?.accessToken).not.toBe(before?.accessToken);
    expect(expectedRefreshToken(pd.mock, before!.refreshToken, after!.refreshToken)).toBe(true);
    expect(after!.expiresAt.getTime()).toBeGreaterThan(Date.now() + 3500_000);
  });

  it("refreshes exactly once for 50 concurrent callers in one process", async () => {
    const { tenantId } = await connectedTenant();
    await expire(tenantId);
    pd.mock.setFaults({ tokenLatencyMs: 100 });
    const tokens = await Promise.all(Array.from({ length: 50 }, () => getValidAccessToken(pd.ctx, tenantId)));
    const stored = await tokenRow(tenantId);
    expect(refreshes()).toBe(1);
    expect(new Set(tokens.map((t) => t.accessToken))).toEqual(new Set([stored?.accessToken]));
  });

  it("refreshes exactly once for 4 processes × 25 callers", async () => {
    const { tenantId } = await connectedTenant();
    await expire(tenantId);
    pd.mock.setFaults({ tokenLatencyMs: 100 });
    const worker = path.join(import.meta.dirname, "../../../testing/support/refresh-worker.ts");
    const results = await raceInProcesses(worker, [tenantId, "25", pd.mock.url, pd.mock.host], 4);
    const stored = await tokenRow(tenantId);
    expect(results).toHaveLength(100);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(refreshes()).toBe(1);
    expect(new Set(results.map((r) => r.accessToken))).toEqual(new Set([stored?.accessToken]));
  }, 60_000);

  it("marks needs_reconnect on invalid_grant and stops calling Pipedrive", async () => {
    const { tenantId } = await connectedTenant();
    await expire(tenantId);
    pd.mock.setFaults({ token: { mode: "invalid_grant" } });
    const failure = await getValidAccessToken(pd.ctx, tenantId).catch((error: unknown) => error);
    expect(isAppError(failure, "needs_reconnect")).toBe(true);
    expect(await connectionRow(tenantId)).toMatchObject({ status: "needs_reconnect" });
    // last_error is for support, as the audit detail is; the page speaks from the conditions' words.
    expect((await connectionRow(tenantId))?.lastError).toMatch(/invalid_grant/);
    const failed = (await auditEvents(tenantId)).find((e) => e.event === "refresh_failed");
    expect(JSON.stringify(failed?.detail)).toMatch(/invalid_grant/);
    const callsBefore = pd.mock.requests().length;
    const again = await getValidAccessToken(pd.ctx, tenantId).catch((error: unknown) => error);
    const search = await searchPersonsByPhone(pd.ctx, tenantId, "+55 11 99999-0001").catch((error: unknown) => error);
    expect(isAppError(again, "needs_reconnect")).toBe(true);
    expect(isAppError(search, "needs_reconnect")).toBe(true);
    expect(pd.mock.requests().length).toBe(callsBefore);
  });

  it("reconnecting clears needs_reconnect", async () => {
    const { tenantId, admin, who } = await connectedTenant();
    await expire(tenantId);
    pd.mock.setFaults({ token: { mode: "invalid_grant" } });
    await getValidAccessToken(pd.ctx, tenantId).catch(() => {});
    pd.mock.reset();
    // The same Pipedrive user allows access again: no switch to confirm.
    await connectThroughMock(pd.ctx, pd.mock, admin, { who });
    expect(await connectionRow(tenantId)).toMatchObject({ status: "connected", lastError: null });
    await expect(getValidAccessToken(pd.ctx, tenantId)).resolves.toMatchObject({ apiHost: pd.mock.host });
  });

  it("retries 5xx with backoff and recovers without needs_reconnect", async () => {
    const { tenantId } = await connectedTenant();
    await expire(tenantId);
    pd.mock.setFaults({ token: { mode: "500", times: 2 } });
    const token = await getValidAccessToken(pd.ctx, tenantId);
    expect(token.accessToken).toBe((await tokenRow(tenantId))?.accessToken);
    expect(tokenRequests(pd.mock, "refresh_token").map((r) => r.status)).toEqual([500, 500, 200]);
    expect(await connectionRow(tenantId)).toMatchObject({ status: "connected" });
  });

  it("gives up after bounded retries on a down token endpoint, still not needs_reconnect", async () => {
    const { tenantId } = await connectedTenant();
    await expire(tenantId);
    pd.mock.setFaults({ token: { mode: "500" } });
    const failure = await getValidAccessToken(pd.ctx, tenantId).catch((error: unknown) => error);
    expect(isAppError(failure, "pipedrive_unavailable")).toBe(true);
    expect(refreshes()).toBe(3);
    expect(await connectionRow(tenantId)).toMatchObject({ status: "connected" });
  });

  it("keeps the old refresh token when the refresh answer has none", async () => {
    const { tenantId } = await connectedTenant();
    const before = await tokenRow(tenantId);
    await expire(tenantId);
    pd.mock.setFaults({ token: { mode: "no_refresh_token" } });
    await getValidAccessToken(pd.ctx, tenantId);
    const after = await tokenRow(tenantId);
    expect(after?.refreshToken).toBe(before?.refreshToken);
    expect(after?.accessToken).not.toBe(before?.accessToken);
  });

  it("reads a row written with a scheme in api_domain, and writes back a bare host", async () => {
    const { tenantId } = await connectedTenant();
    await db().leadPipedriveIntegration.update({ where: { tenantId }, data: { apiDomain: `http://${pd.mock.host}/` } });
    const token = await getValidAccessToken(pd.ctx, tenantId);
    expect(token.apiBaseUrl).toBe(`http://${pd.mock.host}`);
    await expire(tenantId);
    await getValidAccessToken(pd.ctx, tenantId);
    expect((await tokenRow(tenantId))?.apiDomain).toBe(pd.mock.host);
  });

  it("says not_connected for a tenant without a row", async () => {
    const { tenantId } = await createTenant();
    const failure = await getValidAccessToken(pd.ctx, tenantId).catch((error: unknown) => error);
    expect(isAppError(failure, "not_connected")).toBe(true);
  });
});

const searches = () => pd.mock.requests().filter((r) => r.path === "/api/v2/persons/search");

describe("searchPersonsByPhone", () => {
  it("finds a person stored in international format from a locally typed number", async () => {
    const { tenantId } = await connectedTenant();
    const local = await searchPersonsByPhone(pd.ctx, tenantId, "(11) 99999-0001");
    expect(local.map((p) => p.name)).toEqual(["Ana Souza"]);
    expect(local[0]).toMatchObject({
      id: 101,
      phones: ["+55 11 99999-0001"],
      emails: ["ana@acme.example"],
      organization: { id: 11, name: "Acme Brasil" },
    });
    // The typed form misses; the international one with national punctuation is next and finds her.
    expect(searches()).toHaveLength(2);
  });

  it("finds phones stored in any common format, under literal matching too, without earning a 429", async () => {
    const { tenantId } = await connectedTenant();
    // Real waits: under the strict profile the rate-limit headers must slow us down in time.
    const ctx = testContext(pd.mock, { sleep });
    const stored = [
      "+55 11 99999-0001",
      "(11) 99999-0001",
      "+55 11 99999 0001",
      "+5511999990001",
      "11999990001",
      "5511999990001",
    ];
    for (const [i, phone] of stored.entries()) {
      pd.mock.setPersons([{ id: 200 + i, name: `Format ${i}`, phones: [phone], emails: [], organization: null }]);
      for (const typed of ["(11) 99999-0001", "+55 11 99999-0001", "11 999990001", "+5511999990001"]) {
        expect(
          (await searchPersonsByPhone(ctx, tenantId, typed)).map((p) => p.id),
          `typed ${typed}, stored as ${phone}`,
        ).toEqual([200 + i]);
      }
    }
    expect(searches().filter((r) => r.status === 429)).toEqual([]);
  });

  it("follows next_cursor to the end of the results", async () => {
    const { tenantId } = await connectedTenant();
    pd.mock.setPersons(
      Array.from({ length: 1_100 }, (_, i) => ({
        id: 1_000 + i,
        name: `Shared ${i}`,
        phones: ["+55 11 4000-0000"],
        emails: [],
        organization: null,
      })),
    );
    const people = await searchPersonsByPhone(pd.ctx, tenantId, "+55 11 4000-0000");
    expect(people).toHaveLength(1_100);
    expect(new Set(people.map((p) => p.id)).size).toBe(1_100);
    expect(searches()).toHaveLength(3);
  });

  it("finds a number stored in local format through the raw input", async () => {
    const { tenantId } = await connectedTenant();
    const people = await searchPersonsByPhone(pd.ctx, tenantId, "(11) 98888-0002");
    expect(people.map((p) => p.id)).toEqual([102]);
  });

  it("stops at the first term that finds someone", async () => {
    const { tenantId } = await connectedTenant();
    const people = await searchPersonsByPhone(pd.ctx, tenantId, "+55 11 99999-0001");
    expect(searches().map((r) => r.status)).toEqual([200]);
    expect(people.map((p) => p.id)).toEqual([101]);
  });

  it("tries every term before saying nobody matches, while nothing is known of the company's search", async () => {
    const { tenantId } = await connectedTenant();
    await sql().query(`DELETE FROM pipedrive_companies WHERE api_host = $1`, [new URL(pd.mock.url).host]);
    expect(await searchPersonsByPhone(pd.ctx, tenantId, "(21) 4000-0000")).toEqual([]);
    expect(searches()).toHaveLength(6);
  });

  it("returns an empty list when nobody matches", async () => {
    const { tenantId } = await connectedTenant();
    expect(await searchPersonsByPhone(pd.ctx, tenantId, "+55 21 4000-0000")).toEqual([]);
  });

  it("refuses bad input without calling Pipedrive", async () => {
    const { tenantId } = await connectedTenant();
    for (const input of ["", "   ", "call me maybe", "1".repeat(60), "+55 11 9999<script>"]) {
      const failure = await searchPersonsByPhone(pd.ctx, tenantId, input).catch((error: unknown) => error);
      expect(isAppError(failure, "invalid_input")).toBe(true);
    }
    expect(pd.mock.requests()).toHaveLength(0);
  });

  it("on a 401 refreshes once, retries once, and succeeds", async () => {
    const { tenantId } = await connectedTenant();
    pd.mock.expireAccessTokens();
    const people = await searchPersonsByPhone(pd.ctx, tenantId, "+55 11 99999-0001");
    expect(people.map((p) => p.id)).toEqual([101]);
    expect(refreshes()).toBe(1);
  });

  it("after a 401 on the refreshed token too, marks needs_reconnect", async () => {
    const { tenantId } = await connectedTenant();
    pd.mock.setFaults({ api401: { times: 2 } });
    const failure = await searchPersonsByPhone(pd.ctx, tenantId, "+55 11 99999-0001").catch((error: unknown) => error);
    expect(isAppError(failure, "needs_reconnect")).toBe(true);
    expect(refreshes()).toBe(1);
    expect(await connectionRow(tenantId)).toMatchObject({ status: "needs_reconnect" });
  });

  it("waits out a 429 with Retry-After and succeeds", async () => {
    const { tenantId } = await connectedTenant();
    const waits: number[] = [];
    const patient = testContext(pd.mock, {
      sleep: (ms) => {
        waits.push(ms);
        return new Promise((resolve) => setTimeout(resolve, ms));
      },
    });
    // One search per 1.5 s window: the second lookup gets a 429 first.
    pd.mock.setFaults({ searchRateLimit: { limit: 1, windowMs: 1_500, retryAfterSeconds: 2 } });
    await searchPersonsByPhone(patient, tenantId, "+55 11 99999-0001");
    const people = await searchPersonsByPhone(patient, tenantId, "+55 11 99999-0001");
    expect(people.map((p) => p.id)).toEqual([101]);
    expect(searches().map((r) => r.status)).toEqual([200, 429, 200]);
    expect(waits.filter((ms) => ms >= 2000)).toHaveLength(1);
  });

  it("reports rate_limited when Pipedrive keeps answering 429", async () => {
    const { tenantId } = await connectedTenant();
    pd.mock.setFaults({ searchRateLimit: { limit: 0, windowMs: 60_000, retryAfterSeconds: 1 } });
    // A clock the waits move forward, as real waiting would.
    const waits: number[] = [];
    let offset = 0;
    const ctx = testContext(pd.mock, {
      sleep: async (ms) => void (waits.push(ms), (offset += ms)),
      now: () => new Date(Date.now() + offset),
    });
    const failure = await searchPersonsByPhone(ctx, tenantId, "+55 11 99999-0001").catch((error: unknown) => error);
    expect(isAppError(failure, "rate_limited")).toBe(true);
    // Retried while the retries and the caller's 5 s of waiting last (jitter decides which ends first).
    const refused = pd.mock.requests().filter((r) => r.status === 429).length;
    expect(refused).toBeGreaterThanOrEqual(2);
    expect(refused).toBeLessThanOrEqual(5);
    expect(waits.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(5_000);
  });
});
