import { inProcess, type Stats } from "../support/measure.ts";
import { size } from "../support/options.ts";
import { details, medianRound, progress, row } from "../support/report.ts";
import type { BenchTenant, Stack } from "../support/stack.ts";

// Scenario 2: the token hot path, for callers.

export async function tokenHotPath(stack: Stack, connected: BenchTenant[]) {
  const { getValidAccessToken } = await import("../../lib/pipedrive/tokens/access.ts");
  const { pipedrive } = await import("../../lib/pipedrive/context.ts");
  const { sql } = await import("../../lib/db.ts");
  const ctx = pipedrive();
  const ids = connected.map((t) => t.tenantId);
  const result: Record<string, unknown> = {};
  for (const concurrency of [1, 50]) {
    progress(`token hot path at concurrency ${concurrency}: 5 alternating rounds of ${size.hotOps} calls each`);
    const oursOp = (i: number) => getValidAccessToken(ctx, ids[i % ids.length]!);
    // The same work as a named prepared statement, as ours is (an unprepared baseline flattered
    // us), on the same pool as ours: the bench's own 4-connection pool made a different contest.
    const baseOp = (i: number) =>
      sql().query({
        name: "bench-baseline-token",
        text: `SELECT access_token, expires_at, api_domain FROM lead_pipedrive_integrations WHERE tenant_id = $1`,
        values: [ids[i % ids.length]],
      });
    await inProcess(300, concurrency, oursOp);
    await inProcess(300, concurrency, baseOp);
    // Alternate and keep the median round: a round here lasts under a second, so 5 of them.
    const oursRounds: Stats[] = [];
    const baseRounds: Stats[] = [];
    for (let round = 0; round < 5; round++) {
      oursRounds.push(await inProcess(size.hotOps, concurrency, oursOp));
      baseRounds.push(await inProcess(size.hotOps, concurrency, baseOp));
    }
    const ours = medianRound(oursRounds, (r) => r.perSecond);
    const base = medianRound(baseRounds, (r) => r.perSecond);
    result[`c${concurrency}`] = { ours, baseline: base, rounds: { ours: oursRounds, baseline: baseRounds } };
    row(`2. token c=${concurrency}`, "throughput", ours.perSecond, base.perSecond, "ops/s", {
      text: "≥ 0.7×",
      met: ours.perSecond >= 0.7 * base.perSecond,
    });
    row(`2. token c=${concurrency}`, "p99 latency", ours.p99, base.p99, "ms");
  }
  details.tokenHotPath = result;
}
