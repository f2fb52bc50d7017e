import path from "node:path";

import { ROOT } from "../../scripts/support/local-env.ts";
import { raceInProcesses, type CallerResult } from "../../testing/support/race.ts";
import { percentile } from "../support/measure.ts";
import { size } from "../support/options.ts";
import { details, fmt, progress, row, rows } from "../support/report.ts";
import type { BenchTenant, Stack } from "../support/stack.ts";

// Scenario 3: many processes asking for an expired token at once.

export async function stampede(stack: Stack, ours: BenchTenant, naive: BenchTenant) {
  const perProcess = String(size.stampedeCallers / 4);
  const expire = (tenantId: string) =>
    stack.pool.query(
      `UPDATE lead_pipedrive_integrations SET expires_at = now() - interval '1 minute' WHERE tenant_id = $1`,
      [tenantId],
    );
  const refreshCount = async () =>
    (await stack.mock.requests()).filter((r) => r.path === "/oauth/token" && r.grantType === "refresh_token");
  const summarize = (results: CallerResult[]) => {
    const waits = results.map((r) => r.waitMs).sort((a, b) => a - b);
    return {
      callers: results.length,
      failed: results.filter((r) => !r.ok).length,
      p50: percentile(waits, 50),
      p99: percentile(waits, 99),
    };
  };

  progress(
    `refresh stampede: ${size.stampedeCallers} callers in 4 processes, mock refresh latency 200 ms (ours, then naive)`,
  );
  await stack.mock.reset();
  await stack.mock.faults({ tokenLatencyMs: 200 });
  await expire(ours.tenantId);
  const env = stack.appEnv;
  const oursResults = await raceInProcesses(
    path.join(ROOT, "testing/support/refresh-worker.ts"),
    [ours.tenantId, perProcess, stack.mockUrl, new URL(stack.mockUrl).host],
    4,
    env,
  );
  const oursRefreshes = (await refreshCount()).length;
  const oursTokens = new Set(oursResults.filter((r) => r.ok).map((r) => r.accessToken)).size;

  await stack.mock.reset();
  await stack.mock.faults({ tokenLatencyMs: 200 });
  await expire(naive.tenantId);
  const naiveResults = await raceInProcesses(
    path.join(ROOT, "bench/naive-refresh-worker.ts"),
    [stack.db.url, naive.tenantId, perProcess, stack.mockUrl],
    4,
    env,
  );
  const naiveRefreshes = await refreshCount();
  await stack.mock.reset();

  const o = summarize(oursResults);
  const n = summarize(naiveResults);
  details.stampede = {
    ours: { ...o, refreshRequests: oursRefreshes, distinctTokens: oursTokens },
    naive: {
      ...n,
      refreshRequests: naiveRefreshes.length,
      invalidGrant: naiveRefreshes.filter((r) => r.status === 400).length,
    },
  };
  rows.push({
    scenario: "3. stampede",
    metric: "refresh requests at Pipedrive",
    ours: String(oursRefreshes),
    baseline: String(naiveRefreshes.length),
    ratio: `${fmt(oursRefreshes / naiveRefreshes.length, 3)}×`,
    target: "exactly 1",
    met: oursRefreshes === 1 ? "yes" : "no",
  });
  rows.push({
    scenario: "3. stampede",
    metric: "callers left without a token",
    ours: String(o.failed),
    baseline: String(n.failed),
    ratio: "",
    target: "0",
    met: o.failed === 0 ? "yes" : "no",
  });
  row("3. stampede", "p50 wait per caller", o.p50, n.p50, "ms");
  row("3. stampede", "p99 wait per caller", o.p99, n.p99, "ms");
  rows.push({
    scenario: "3. stampede",
    metric: "p99 wait ÷ mock latency (200 ms)",
    ours: `${fmt(o.p99 / 200, 2)}×`,
    baseline: `${fmt(n.p99 / 200, 2)}×`,
    ratio: "",
    target: "",
    met: "",
  });
}
