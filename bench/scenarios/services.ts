import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { inProcess, loadRequests, percentile, type Stats } from "../support/measure.ts";
import { size } from "../support/options.ts";
import { details, medianRound, progress, row } from "../support/report.ts";
import { BENCH_SERVICE_KEY, type BenchTenant, type Stack } from "../support/stack.ts";

// Scenario 6: what services get. The token endpoint over HTTP beside the token hot path in
// process; connection events from their commit to a subscriber's receipt, beside a bare POST
// to the same receiver.

export async function services(stack: Stack, connected: BenchTenant[]) {
  await tokenEndpoint(stack, connected);
  await eventLag(connected);
}

async function tokenEndpoint(stack: Stack, connected: BenchTenant[]) {
  const { getValidAccessToken } = await import("../../lib/pipedrive/tokens/access.ts");
  const { pipedrive } = await import("../../lib/pipedrive/context.ts");
  const ctx = pipedrive();
  const ids = connected.map((t) => t.tenantId);
  const planned = Array.from({ length: size.hotOps }, (_, i) => ({
    path: `/api/services/pipedrive/token?tenant_id=${ids[i % ids.length]}`,
    headers: { Authorization: `Bearer ${BENCH_SERVICE_KEY}` },
  }));
  const concurrency = 50;
  progress(
    `token endpoint at c=${concurrency}: 3 alternating rounds of ${size.hotOps} calls, over HTTP and in process`,
  );
  const endpoint = () => loadRequests(stack.appUrl, planned, concurrency, (status) => status === 200);
  const floorPlanned = planned.map((p) => ({
    path: p.path.replace("/api/services/pipedrive/token", "/bench-floor/token"),
    headers: {},
  }));
  const floor = () => loadRequests(stack.floorUrl!, floorPlanned, concurrency, (status) => status === 200);
  const hotPath = () => inProcess(size.hotOps, concurrency, (i) => getValidAccessToken(ctx, ids[i % ids.length]!));
  await endpoint();
  await floor();
  await hotPath();
  const endpointRounds: Awaited<ReturnType<typeof endpoint>>[] = [];
  const floorRounds: Stats[] = [];
  const hotRounds: Stats[] = [];
  for (let round = 0; round < 3; round++) {
    endpointRounds.push(await endpoint());
    floorRounds.push(await floor());
    hotRounds.push(await hotPath());
  }
  const ours = medianRound(endpointRounds, (r) => r.perSecond);
  const base = medianRound(hotRounds, (r) => r.perSecond);
  const bare = medianRound(floorRounds, (r) => r.perSecond);
  details.tokenEndpoint = {
    ours,
    floor: bare,
    hotPath: base,
    rounds: { endpoint: endpointRounds, floor: floorRounds, hotPath: hotRounds },
  };
  row(
    `6. token endpoint ÷ its floor on Next, c=${concurrency}`,
    "throughput",
    ours.perSecond,
    bare.perSecond,
    "ops/s",
    {
      text: "≥ 0.5×",
      met: ours.perSecond >= 0.5 * bare.perSecond,
    },
  );
  row(`6. token endpoint ÷ its floor on Next, c=${concurrency}`, "p99 latency", ours.p99, bare.p99, "ms");
  row(
    `6. token endpoint ÷ hot path in process, c=${concurrency}`,
    "throughput",
    ours.perSecond,
    base.perSecond,
    "ops/s",
  );
  const failed = endpointRounds.reduce((n, r) => n + r.bad + r.errors, 0);
  row("6. token endpoint", "answers other than 200", failed, 0, "", { text: "0", met: failed === 0 });
}

async function eventLag(connected: BenchTenant[]) {
  const { inTransaction, sql } = await import("../../lib/db.ts");
  const { oweServiceEvent, nameSubscribers } = await import("../../lib/services/service-event-store.ts");
  const { startEventDelivery } = await import("../../lib/services/event-delivery.ts");
  const count = Math.min(size.hotOps, 1000);
  // A receiver that answers at once and notes when each event arrived, by its `timestamp`: the
  // database's clock at the event's transaction, on this same machine.
  const lags: number[] = [];
  const receiver = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      const arrived = Date.now();
      const event = JSON.parse(body) as { timestamp: string; bench?: true };
      if (!event.bench) lags.push(arrived - Date.parse(event.timestamp));
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`;
  const secret = `whsec_${Buffer.from("bench-secret-bench-secret-bench!").toString("base64")}`;
  try {
    progress(
      `connection events: ${count} made one at a time, each timed from its commit to the receiver; then ${count} bare POSTs`,
    );
    await nameSubscribers(["bench"]);
    const worker = await startEventDelivery([{ name: "bench", url, secrets: [secret] }], () => {});
    try {
      for (let i = 0; i < count; i++) {
        await inTransaction(sql(), (client) =>
          oweServiceEvent(
            client,
            connected[i % connected.length]!.tenantId,
            { type: "recovered", condition: "connected", message: null },
            {},
          ),
        );
        // One every 10 ms, as changes come: the lag of each, not of a queue behind it.
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const deadline = Date.now() + 60_000;
      while (lags.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      await worker.stop();
    }
    const body = JSON.stringify({
      type: "pipedrive.connection.recovered",
      timestamp: new Date().toISOString(),
      bench: true,
    });
    const bare = await inProcess(count, 1, async () => {
      const answer = await fetch(url, { method: "POST", body, headers: { "Content-Type": "application/json" } });
      await answer.arrayBuffer();
    });
    const sorted = [...lags].sort((a, b) => a - b);
    const p50 = percentile(sorted, 50);
    const p99 = percentile(sorted, 99);
    details.eventLag = { events: count, received: lags.length, p50, p99, barePost: bare };
    row("6. event delivery ÷ bare POST", "p50 latency (commit → receipt)", p50, bare.p50, "ms");
    row("6. event delivery ÷ bare POST", "p99 latency (commit → receipt)", p99, bare.p99, "ms");
    row("6. event delivery", "events received", lags.length, count, "", {
      text: "all",
      met: lags.length === count,
    });
  } finally {
    await nameSubscribers([]);
    await new Promise((resolve) => receiver.close(resolve));
  }
}
