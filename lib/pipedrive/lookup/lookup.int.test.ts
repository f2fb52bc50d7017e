import { describe, expect, it } from "vitest";

import {
  connectThroughMock,
  createTenant,
  MOCK_PROFILE,
  mockPipedriveForFile,
  testContext,
} from "../../../testing/support/vitest-harness.ts";
import { db, sql } from "../../db.ts";
import { LIMITS } from "../../rate-limit-store.ts";
import type { TenantUser } from "../../users/user-store.ts";
import { refusalMessage } from "./lookup-refusal.ts";
import { loadLookup } from "./lookup-store.ts";
import { lookupsToday, runLookup } from "./lookup.ts";

const pd = mockPipedriveForFile();
const searches = () => pd.mock.requests().filter((r) => r.path === "/api/v2/persons/search").length;
const storedFor = (tenantId: string) => db().pipedriveLookup.count({ where: { tenantId } });

async function ran(user: TenantUser, phone: string) {
  const result = await runLookup(pd.ctx, user, phone);
  if (!("id" in result)) throw new Error(`refused: ${result.refused.reason}`);
  return result.id;
}

describe("the settings page's phone lookup", () => {
  it("keeps a result for the user who ran it, in their workspace only", async () => {
    const a = await createTenant();
    const b = await createTenant();
    await connectThroughMock(pd.ctx, pd.mock, a.admin);
    const id = await ran(a.member, "+55 11 99999-0001");
    expect(await loadLookup(a.member, id, new Date())).toMatchObject({
      phone: "+55 11 99999-0001",
      people: [{ id: 101, name: "Ana Souza" }],
      problem: null,
    });
    expect(await loadLookup(a.admin, id, new Date())).toBeNull();
    expect(await loadLookup(b.admin, id, new Date())).toBeNull();
    expect(await loadLookup(a.member, id, new Date(Date.now() + 11 * 60_000))).toBeNull();
    expect(await loadLookup(a.member, "not-a-uuid", new Date())).toBeNull();
  });

  it("is rate-limited per workspace, without calling Pipedrive or storing anything past the limit", async () => {
    const busy = await createTenant();
    const other = await createTenant();
    await connectThroughMock(pd.ctx, pd.mock, busy.admin);
    await connectThroughMock(pd.ctx, pd.mock, other.admin);
    pd.mock.reset();
    // Our own limit, not Pipedrive's: both workspaces here share the mock's one company, whose
    // strict burst limit would pause them both (as it should for one real company).
    pd.mock.configure({ profile: "friendly" });
    // Enough users that the workspace's limit, not each one's, is what runs out.
    const users = [busy.admin, busy.member, await busy.addUser("member")];
    for (let i = 0; i < LIMITS.lookup.points; i++) await ran(users[i % users.length]!, "+55 11 99999-0001");
    const calls = searches();
    const stored = await storedFor(busy.tenantId);
    const refused = await runLookup(pd.ctx, await busy.addUser("member"), "+55 11 99999-0001");
    expect(refused).toMatchObject({ refused: { reason: "busy_workspace" } });
    expect(searches()).toBe(calls);
    expect(await storedFor(busy.tenantId)).toBe(stored);
    expect(await loadLookup(other.admin, await ran(other.admin, "+55 11 99999-0001"), new Date())).toMatchObject({
      problem: null,
      people: [{ id: 101 }],
    });
  });

  it("stops at the workspace's daily budget: no call to Pipedrive, nothing stored, and the page counts the day", async () => {
    const t = await createTenant();
    await connectThroughMock(pd.ctx, pd.mock, t.admin);
    pd.mock.configure({ profile: "friendly" });
    const ctx = testContext(pd.mock, { lookupDailyLimit: 3 });
    const users = [t.admin, t.member, await t.addUser("member")];
    for (const user of users) expect(await runLookup(ctx, user, "+55 11 99999-0001")).toHaveProperty("id");
    const calls = searches();
    const stored = await storedFor(t.tenantId);
    const refused = await runLookup(ctx, await t.addUser("member"), "+55 11 99999-0001");
    expect(refused).toMatchObject({ refused: { reason: "daily_budget" } });
    expect(searches()).toBe(calls);
    expect(await storedFor(t.tenantId)).toBe(stored);
    // Tomorrow (UTC) the budget is whole again; the refusal says when that is, with its date.
    const until = "refused" in refused && "until" in refused.refused ? refused.refused.until : null;
    expect(until?.toISOString()).toMatch(/T00:00:00\.000Z$/);
    const message = refusalMessage(
      { lookup_refused: "daily_budget", until: String(until!.getTime() / 1000) },
      new Date(),
      { dailyLimit: 3 },
    );
    expect(message?.text).toMatch(/^This workspace has used its 3 lookups for today\. Lookups resume at 00:00 UTC on /);
    expect(await lookupsToday(ctx, t.tenantId)).toEqual({ used: 3, limit: 3 });
  });

  it("is limited per user too: one member cannot spend the workspace's share", async () => {
    const t = await createTenant();
    await connectThroughMock(pd.ctx, pd.mock, t.admin);
    pd.mock.configure({ profile: "friendly" });
    let refusedAt = -1;
    for (let i = 0; i < 40 && refusedAt < 0; i++) {
      const result = await runLookup(pd.ctx, t.member, "+55 11 99999-0001");
      if ("refused" in result) {
        expect(result.refused.reason).toBe("busy_user");
        refusedAt = i;
      }
    }
    expect(refusedAt).toBe(LIMITS.lookupByUser.points);
    expect(await loadLookup(t.admin, await ran(t.admin, "+55 11 99999-0001"), new Date())).toMatchObject({
      problem: null,
    });
  });

  it("refuses input that cannot be a phone number before it counts, and stores nothing", async () => {
    const t = await createTenant();
    await connectThroughMock(pd.ctx, pd.mock, t.admin);
    const calls = searches();
    for (let i = 0; i < 40; i++) {
      expect(await runLookup(pd.ctx, t.member, "call me maybe")).toEqual({ refused: { reason: "characters" } });
    }
    expect(await runLookup(pd.ctx, t.member, "12")).toEqual({ refused: { reason: "too_short" } });
    expect(searches()).toBe(calls);
    expect(await storedFor(t.tenantId)).toBe(0);
    // The junk spent nothing: the same member still has every lookup of the minute.
    expect(await loadLookup(t.member, await ran(t.member, "+55 11 99999-0001"), new Date())).toMatchObject({
      problem: null,
    });
  });
});

describe("a refusal's message", () => {
  const now = new Date("2026-12-01T12:00:00Z");
  it("is worded at render time, from the time it ends", () => {
    const until = String(now.getTime() / 1000 + 42);
    expect(refusalMessage({ lookup_refused: "busy_user", until }, now, { dailyLimit: 200 })?.text).toMatch(
      /Try again in 42 seconds\.$/,
    );
    expect(
      refusalMessage({ lookup_refused: "busy_user", until }, new Date(now.getTime() + 60_000), { dailyLimit: 200 })
        ?.text,
    ).toMatch(/You can search again now\.$/);
  });

  it("names the input's problem, and says nothing for a query that is not ours", () => {
    expect(refusalMessage({ lookup_refused: "too_short" }, now, { dailyLimit: 200 })).toEqual({
      text: "Enter at least 4 digits.",
      badInput: true,
    });
    expect(refusalMessage({ lookup_refused: "constructor" }, now, { dailyLimit: 200 })).toBeNull();
    expect(
      refusalMessage({ lookup_refused: "busy_workspace", until: "99999999999" }, now, { dailyLimit: 200 })?.text,
    ).toMatch(/in 60 seconds/);
  });
});

describe("a lookup against a slow Pipedrive", () => {
  it("at 6 s per answer, stops at its 15 s bound and says how far it got", { timeout: 40_000 }, async () => {
    const t = await createTenant();
    // The production defaults: a 10 s timeout per call, a 15 s bound for the whole lookup.
    const ctx = testContext(pd.mock, { timeoutMs: 10_000, lookupBoundMs: 15_000 });
    await connectThroughMock(ctx, pd.mock, t.admin);
    // Every form of the number is tried: nothing learned about this company's search.
    // This mock's company only: other files' companies share the database and run beside this one.
    await sql().query(`DELETE FROM pipedrive_companies WHERE api_host = $1`, [new URL(pd.mock.url).host]);
    pd.mock.setFaults({ apiLatencyMs: 6_000 });
    const before = searches();
    const started = performance.now();
    const result = await runLookup(ctx, t.admin, "+55 21 4000-0000");
    const waited = performance.now() - started;
    pd.mock.setFaults({});
    if (!("id" in result)) throw new Error("refused");
    const problem = (await loadLookup(t.admin, result.id, new Date()))!.problem!;
    const [, tried, of] = problem.match(/stopped after 15 seconds, having tried (\d+) of the (\d+) ways/)!;
    expect(Number(tried)).toBeLessThan(Number(of));
    expect(searches() - before).toBeLessThanOrEqual(Number(tried) + 1);
    console.info(
      `[slow lookup, ${MOCK_PROFILE}] waited ${(waited / 1000).toFixed(1)} s; tried ${tried} of ${of} forms`,
    );
  });
});
