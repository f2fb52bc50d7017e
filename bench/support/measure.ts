import type { IncomingHttpHeaders } from "node:http";

import autocannon from "autocannon";

// Small helpers shared by the benchmarks: percentiles, in-process concurrency, autocannon.

export type Stats = { ops: number; seconds: number; perSecond: number; p50: number; p99: number };

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function summarize(latencies: number[], seconds: number): Stats {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    ops: latencies.length,
    seconds,
    perSecond: latencies.length / seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  };
}

/** Runs `op` `total` times with `concurrency` callers in this process; latencies in ms. */
export async function inProcess(
  total: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<Stats> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t = performance.now();
        await op(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return summarize(latencies, (performance.now() - started) / 1000);
}

export type Planned = { path: string; headers: Record<string, string> };

/**
 * Sends each planned request exactly once with autocannon at the given concurrency, and counts
 * the answers `ok` accepts.
 */
export async function loadRequests(
  baseUrl: string,
  planned: Planned[],
  connections: number,
  ok: (status: number, headers: IncomingHttpHeaders) => boolean,
): Promise<Stats & { good: number; bad: number; errors: number }> {
  let next = 0;
  let good = 0;
  let bad = 0;
  const started = performance.now();
  let lastAnswer = started;
  const result = await autocannon({
    url: baseUrl,
    connections,
    amount: planned.length,
    timeout: 30,
    requests: [
      {
        setupRequest: (request) => {
          const plan = planned[next++ % planned.length]!;
          return { ...request, method: "GET", path: plan.path, headers: plan.headers };
        },
        onResponse: (status, _body, _context, headers) => {
          // autocannon keeps the server's header case.
          const lower = Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
          lastAnswer = performance.now();
          if (ok(status, lower)) good++;
          else bad++;
        },
      },
    ],
  });
  // autocannon rounds its duration up to whole seconds; short runs need first-to-last answer.
  const seconds = (lastAnswer - started) / 1000;
  return {
    ops: result.requests.total,
    seconds,
    perSecond: result.requests.total / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    good,
    bad,
    errors: result.errors + result.timeouts,
  };
}

/** autocannon for a fixed duration against one path (page TTFB). */
export async function loadPath(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
  connections: number,
  seconds: number,
) {
  const result = await autocannon({ url: `${baseUrl}${path}`, connections, duration: seconds, headers });
  return {
    ops: result.requests.total,
    seconds: result.duration,
    perSecond: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}
