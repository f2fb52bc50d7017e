import { describe, expect, it } from "vitest";

import { connectedTenant, mockPipedriveForFile, testContext } from "../../../testing/support/vitest-harness.ts";
import { sql } from "../../db.ts";
import { newStats } from "../client/api-client.ts";
import { loadLookup } from "./lookup-store.ts";
import { runLookup } from "./lookup.ts";
import { BATCH_PATIENCE, searchPersonsByPhone } from "./person-search.ts";

// A person waits on a lookup: a short burst limit (429, Retry-After of seconds) is waited out
// for about 5 s at most, then answered as "busy"; only a spent daily budget pauses the company.

const pd = mockPipedriveForFile();

async function lookupUnder(retryAfterSeconds: number | null, daily = false) {
  const t = await connectedTenant(pd);
  const host = new URL(pd.mock.url).host;
  await sql().query(`DELETE FROM pipedrive_rate_limits WHERE api_host = $1`, [host]);
  pd.mock.setFaults({ searchRateLimit: { limit: 0, windowMs: 3_600_000, retryAfterSeconds, daily } });
  const waits: number[] = [];
  let offset = 0;
  const ctx = testContext(pd.mock, {
    sleep: async (ms) => void (waits.push(ms), (offset += ms)),
    now: () => new Date(Date.now() + offset),
  });
  const ran = await runLookup(ctx, t.member, "+55 11 99999-0001");
  if (!("id" in ran)) throw new Error("refused");
  const shown = await loadLookup(t.member, ran.id, new Date());
  const blocked = await sql().query<{ blocked_until: Date }>(
    `SELECT blocked_until FROM pipedrive_rate_limits WHERE api_host = $1`,
    [host],
  );
  await sql().query(`DELETE FROM pipedrive_rate_limits WHERE api_host = $1`, [host]);
  pd.mock.setFaults({});
  return {
    problem: shown?.problem,
    waited: waits.reduce((a, b) => a + b, 0),
    companyPaused: blocked.rows.length > 0,
    pausedUntil: blocked.rows[0]?.blocked_until ?? null,
  };
}

describe("a lookup under Pipedrive's rate limits", () => {
  it.each([[2], [null]])(
    "reads a spent daily budget from the 429's body, whatever its Retry-After (%s): paused, with the way to Pipedrive's usage page",
    async (retryAfterSeconds) => {
      const result = await lookupUnder(retryAfterSeconds, true);
      expect(result.companyPaused).toBe(true);
      expect(result.pausedUntil!.getTime()).toBeGreaterThan(Date.now() + 30 * 60_000);
      expect(result.waited).toBeLessThan(1_000);
      expect(result.problem).toMatch(/request limit for this company is used up/);
      expect(result.problem).toMatch(/API usage/);
    },
  );

  it.each([[1e16], [1e11]])("takes a Retry-After of %d s as a day at most, and says until when", async (seconds) => {
    const before = Date.now();
    const result = await lookupUnder(seconds);
    expect(result.companyPaused).toBe(true);
    expect(result.pausedUntil!.getTime()).toBeLessThanOrEqual(before + 24 * 3600_000 + 60_000);
    expect(result.problem).not.toContain("Something went wrong");
    expect(result.problem).toMatch(/until|resume/i);
  });

  it("waits out a short burst limit for about 5 s at most, then says Pipedrive is busy", async () => {
    const result = await lookupUnder(8);
    // How long Pipedrive asked for, not "a few seconds".
    expect(result.problem).toBe("Pipedrive is busy and asked us to wait 8\u00a0seconds. Try again then.");
    expect(result.waited).toBeLessThanOrEqual(5_000);
    expect(result.companyPaused).toBe(false);
  });

  it("keeps the daily-budget wording, and the pause, for a spent daily budget", async () => {
    const result = await lookupUnder(3_600);
    expect(result.problem).toMatch(/^Pipedrive's request limit for this company is used up\. Lookups resume at /);
    expect(result.waited).toBe(0);
    expect(result.companyPaused).toBe(true);
  });

  it("waits a burst limit out for a caller nobody is watching (lead enrichment), up to a minute", async () => {
    const t = await connectedTenant(pd);
    // One search per 6 s, asking for 6 s: more than a person's 5 s, well within a batch's minute.
    // Real time and real waits: the mock's window runs on its own clock.
    pd.mock.setFaults({ searchRateLimit: { limit: 1, windowMs: 6_000, retryAfterSeconds: 6 } });
    const ctx = testContext(pd.mock, { sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) });
    try {
      const names = async (people: Promise<{ name: string }[]>) => (await people).map((p) => p.name);
      expect(await names(searchPersonsByPhone(ctx, t.tenantId, "+55 11 99999-0001"))).toEqual(["Ana Souza"]);
      // A person at the page is told Pipedrive is busy at once: 6 s is more than they wait.
      await expect(searchPersonsByPhone(ctx, t.tenantId, "+55 11 99999-0001")).rejects.toThrow(/429/);
      const stats = newStats();
      const started = Date.now();
      expect(
        await names(searchPersonsByPhone(ctx, t.tenantId, "+55 11 99999-0001", { stats, patience: BATCH_PATIENCE })),
      ).toEqual(["Ana Souza"]);
      // It waited out the window the page's 429 announced, then asked once.
      expect(Date.now() - started).toBeGreaterThanOrEqual(5_000);
      expect(stats.calls).toBe(1);
    } finally {
      pd.mock.setFaults({});
      await sql().query(`DELETE FROM pipedrive_rate_limits WHERE api_host = $1`, [new URL(pd.mock.url).host]);
    }
  }, 30_000);
});
