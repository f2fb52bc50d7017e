import { loadPath, loadRequests, type Planned } from "../support/measure.ts";
import { profiling, size } from "../support/options.ts";
import { details, medianRound, progress, row } from "../support/report.ts";
import type { BenchTenant, Stack } from "../support/stack.ts";

// Scenario 1: the OAuth callback against a bare node:http + pg baseline doing the same work.

type FlowKind = "first connect" | "reconnect";

/**
 * Connect flows up to Pipedrive's redirect, as the browser would then send them to our callback
 * (started by our Connect, in the admin's session) or the baseline (its state written directly).
 */
async function planFlows(stack: Stack, tenants: BenchTenant[], baseline: boolean): Promise<Planned[]> {
  const planned: Planned[] = [];
  const query = (flow: { code: string; state: string }) =>
    `?code=${encodeURIComponent(flow.code)}&state=${encodeURIComponent(flow.state)}`;
  for (const tenant of tenants) {
    if (baseline) {
      const flow = await stack.prepareFlow(tenant, `${stack.baselineUrl}/callback`);
      planned.push({
        path: `/callback${query(flow)}`,
        headers: { cookie: `session=${tenant.userId}:${tenant.tenantId}; pd_oauth_state=${flow.state}` },
      });
    } else {
      const flow = await stack.startFlow(tenant, await stack.sessionCookie(tenant));
      planned.push({ path: `/api/integrations/pipedrive/callback${query(flow)}`, headers: { cookie: flow.cookie } });
    }
  }
  return planned;
}

const flowSucceeded = (status: number, headers: Record<string, unknown>) =>
  status === 302 && /pipedrive=(connected|reconnected)/.test(String(headers.location ?? ""));

/** Connects the stack's own tenants through our callback, for the scenarios that need a connection. */
export async function connectAll(stack: Stack) {
  const answer = await loadRequests(stack.appUrl, await planFlows(stack, stack.tenants, false), 10, flowSucceeded);
  if (answer.good !== stack.tenants.length)
    throw new Error(`connected ${answer.good} of ${stack.tenants.length} tenants`);
}

/**
 * A first connect (a workspace and a Pipedrive user with no install yet) and a reconnect (the
 * same Pipedrive user again: the install model keeps its grant, nothing is revoked) cost
 * different work, so each is measured on its own, against the baseline doing the same kind.
 */
export async function callbackOverhead(stack: Stack) {
  const plan = (tenants: BenchTenant[], baseline: boolean) => planFlows(stack, tenants, baseline);
  const connected = flowSucceeded;
  // Warm both servers (route compilation, JIT, connection pools) before measuring.
  const warm = await stack.addTenants(40);
  await loadRequests(stack.appUrl, await plan(warm.slice(0, 20), false), 5, connected);
  await loadRequests(stack.baselineUrl!, await plan(warm.slice(20), true), 5, connected);
  const result: Record<string, unknown> = {};
  // Median of 3 alternating rounds by p50, the target's measure.
  const median = <T extends { p50: number }>(rounds: T[]) => medianRound(rounds, (r) => r.p50);
  for (const concurrency of [1, 10, 50]) {
    const oursTenants = await stack.addTenants(size.callbacks);
    const baseTenants = await stack.addTenants(size.callbacks);
    const third = Math.ceil(size.callbacks / 3);
    for (const kind of ["first connect", "reconnect"] as FlowKind[]) {
      progress(
        `callback, ${kind}, at concurrency ${concurrency}: 3 alternating rounds, ${size.callbacks} flows each, ours and baseline`,
      );
      type Round = Awaited<ReturnType<typeof loadRequests>>;
      const oursRounds: Round[] = [];
      const baseRounds: Round[] = [];
      for (let round = 0; round < 3; round++) {
        const slice = (tenants: BenchTenant[]) => tenants.slice(round * third, (round + 1) * third);
        // Planned first: our flows start with our own Connect, which is not the callback's work.
        const planned = await plan(slice(oursTenants), false);
        const window = profiling.start(`callback, ${kind}, c=${concurrency}`);
        oursRounds.push(await loadRequests(stack.appUrl, planned, concurrency, connected));
        profiling.stop(window);
        baseRounds.push(
          await loadRequests(stack.baselineUrl!, await plan(slice(baseTenants), true), concurrency, connected),
        );
      }
      const ours = median(oursRounds);
      const base = median(baseRounds);
      result[`${kind} c${concurrency}`] = { ours, baseline: base, rounds: { ours: oursRounds, baseline: baseRounds } };
      const scenario = `1. callback, ${kind}, c=${concurrency}`;
      row(
        scenario,
        "p50 latency",
        ours.p50,
        base.p50,
        "ms",
        concurrency === 10 ? { text: "≤ 2×", met: ours.p50 <= 2 * base.p50 } : undefined,
      );
      row(scenario, "p99 latency", ours.p99, base.p99, "ms");
      row(scenario, "throughput", ours.perSecond, base.perSecond, "flows/s");
      const failed = (rounds: Round[]) => rounds.reduce((sum, r) => sum + r.bad + r.errors, 0);
      if (failed(oursRounds) || failed(baseRounds)) {
        row(scenario, "failed flows (must be 0)", failed(oursRounds), failed(baseRounds), "", {
          text: "0",
          met: failed(oursRounds) === 0,
        });
      }
    }
  }
  // What Next.js itself costs a request: a route that does nothing, against node:http doing nothing.
  progress("framework floor at concurrency 10: 3 alternating rounds, Next.js route and node:http");
  const nextRounds: Awaited<ReturnType<typeof loadPath>>[] = [];
  const bareRounds: Awaited<ReturnType<typeof loadPath>>[] = [];
  for (let round = 0; round < 3; round++) {
    nextRounds.push(await loadPath(stack.appUrl, "/api/health", {}, 10, size.pageSeconds));
    bareRounds.push(await loadPath(stack.baselineUrl!, "/health", {}, 10, size.pageSeconds));
  }
  const next = median(nextRounds);
  const bare = median(bareRounds);
  result.framework = { next, bare };
  row(
    "1. framework floor: empty Next.js route ÷ node:http, c=10",
    "throughput",
    next.perSecond,
    bare.perSecond,
    "req/s",
  );
  details.callback = result;
}
