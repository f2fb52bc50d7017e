import { describe, expect, it } from "vitest";

import { connectedTenant, expireAccessToken, mockPipedriveForFile } from "../../testing/support/vitest-harness.ts";
import { sql } from "../db.ts";
import { runLookup } from "../pipedrive/lookup/lookup.ts";
import { getValidAccessToken } from "../pipedrive/tokens/access.ts";
import { countsWritten } from "./metric-store.ts";
import { metricsAccess, metricsText } from "./metrics.ts";

// What operators scrape. The database is shared by the suite, so figures are compared before
// and after what each test does, never as absolute numbers.

const pd = mockPipedriveForFile();

async function sample(name: string, labels: string): Promise<number> {
  await countsWritten();
  const { text } = await metricsText();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{${labels}} `));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

/** An unlabelled series' value. */
const value = (text: string, name: string) =>
  Number(
    text
      .split("\n")
      .find((l) => l.startsWith(`${name} `))
      ?.split(" ")[1] ?? Number.NaN,
  );

describe("/api/metrics", () => {
  it("counts a connection that needs a reconnect, and the refresh Pipedrive refused", async () => {
    const refusedBefore = await sample("pipedrive_refreshes_total", 'outcome="refused"');
    const t = await connectedTenant(pd);
    await expireAccessToken(t.tenantId);
    pd.mock.setFaults({ token: { mode: "invalid_grant", grant: "refresh_token" } });
    await getValidAccessToken(pd.ctx, t.tenantId).catch(() => null);
    // The gauge is what the view says, read while nothing else in the suite changed it.
    const inView = async () =>
      (
        await sql().query<{ n: number }>(
          `SELECT count(*)::int AS n FROM lead_pipedrive_integration_status WHERE status = 'needs_reconnect'`,
        )
      ).rows[0]!.n;
    let agreed = false;
    for (let attempt = 0; attempt < 10 && !agreed; attempt++) {
      const first = await inView();
      const gauge = await sample("pipedrive_connections", 'status="needs_reconnect"');
      if (first === (await inView())) {
        expect(gauge).toBe(first);
        agreed = true;
      }
    }
    expect(agreed).toBe(true);
    expect(await sample("pipedrive_connections", 'status="needs_reconnect"')).toBeGreaterThan(0);
    // Other suites refresh too: at least ours was counted.
    expect(await sample("pipedrive_refreshes_total", 'outcome="refused"')).toBeGreaterThanOrEqual(refusedBefore + 1);
  });

  it("counts lookups by outcome and Pipedrive's answers by status class", async () => {
    const t = await connectedTenant(pd);
    pd.mock.configure({ profile: "friendly" });
    const found = await sample("lookups_total", 'outcome="found"');
    const invalid = await sample("lookups_total", 'outcome="invalid_input"');
    const ok = await sample("pipedrive_answers_total", 'class="2xx"');
    await runLookup(pd.ctx, t.member, "+55 11 99999-0001");
    await runLookup(pd.ctx, t.member, "call me");
    expect(await sample("lookups_total", 'outcome="found"')).toBeGreaterThanOrEqual(found + 1);
    expect(await sample("lookups_total", 'outcome="invalid_input"')).toBeGreaterThanOrEqual(invalid + 1);
    expect(await sample("pipedrive_answers_total", 'class="2xx"')).toBeGreaterThan(ok);
  });

  it("counts every wait a process puts on a company's calls: none is hidden inside it", async () => {
    const t = await connectedTenant(pd);
    const before = await sample("pipedrive_api_waits_total", 'reason="burst_429"');
    pd.mock.setFaults({ searchRateLimit: { limit: 0, windowMs: 60_000, retryAfterSeconds: 1 } });
    try {
      await runLookup(pd.ctx, t.member, "+55 11 99999-0001");
    } finally {
      pd.mock.setFaults({});
    }
    expect(await sample("pipedrive_api_waits_total", 'reason="burst_429"')).toBeGreaterThan(before);
  });

  it("reports the keeper's lag and rate-limited companies", async () => {
    const { text } = await metricsText();
    expect(text).toMatch(/^pipedrive_keeper_lag_seconds \d+(\.\d+)?$/m);
    expect(text).toMatch(/^pipedrive_rate_limited_companies \d+$/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
  });

  it("needs the bearer token when one is set, and one outside the launcher's demo", () => {
    const token = "a-metrics-token-of-32-characters";
    expect(metricsAccess({ METRICS_TOKEN: token, DEMO: undefined }, `Bearer ${token}`)).toBe("ok");
    expect(metricsAccess({ METRICS_TOKEN: token, DEMO: undefined }, "Bearer nope")).toBe("unauthorized");
    expect(metricsAccess({ METRICS_TOKEN: token, DEMO: "1" }, null)).toBe("unauthorized");
    expect(metricsAccess({ METRICS_TOKEN: undefined, DEMO: undefined }, null)).toBe("not_configured");
    expect(metricsAccess({ METRICS_TOKEN: undefined, DEMO: "1" }, null)).toBe("ok");
  });

  it("names no customer's Pipedrive host: the day's estimated cost is one total, with the number of companies", async () => {
    await sql().query(
      `INSERT INTO pipedrive_api_usage (api_host, day, lookups, searches, api_tokens) VALUES
         ('customer-one.pipedrive.com', (now() AT TIME ZONE 'UTC')::date, 1, 1, 20),
         ('customer-two.pipedrive.com', (now() AT TIME ZONE 'UTC')::date, 1, 2, 40)
       ON CONFLICT (api_host, day) DO UPDATE SET api_tokens = EXCLUDED.api_tokens`,
    );
    const { text } = await metricsText();
    expect(text).not.toContain("pipedrive.com");
    expect(text).not.toMatch(/api_host=/);
    expect(value(text, "pipedrive_api_tokens_today")).toBeGreaterThanOrEqual(60);
    expect(value(text, "pipedrive_api_companies_today")).toBeGreaterThanOrEqual(2);
  });
});
