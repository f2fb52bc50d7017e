import { parseArgs } from "node:util";

import { adoptCliEnv } from "./support/local-env.ts";

// `npm run events -- list` shows the delivery log of connection events (newest 50 deliveries),
// each subscriber's own; `npm run events -- redeliver <webhook-id>` or `-- redeliver --given-up`
// owes them again, to every subscriber or to `--subscriber <name>`.

const usage = "usage: npm run events -- list | redeliver <webhook-id> | redeliver --given-up [--subscriber <name>]";

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { "given-up": { type: "boolean" }, subscriber: { type: "string" } },
  });
  const [command, id] = positionals;
  if (command !== "list" && !(command === "redeliver" && (id || values["given-up"]))) {
    console.error(usage);
    return 2;
  }
  if (!adoptCliEnv("events")) return 2;
  const { eventLog, redeliver } = await import("../lib/services/service-event-store.ts");
  const { closeDb } = await import("../lib/db.ts");
  try {
    if (command === "list") {
      for (const e of await eventLog(50))
        console.log(
          `${e.createdAt.toISOString()}  ${e.subscriber}  ${e.webhookId}  ${e.type}  tenant ${e.tenantId}  ${e.state}` +
            `  attempts ${e.attempts}${e.lagMs === null ? "" : `  lag ${Math.round(e.lagMs)} ms`}` +
            `${e.lastStatus ? `  last HTTP ${e.lastStatus}` : e.lastError ? `  last error ${e.lastError}` : ""}`,
        );
      return 0;
    }
    const owed = await redeliver(id ? { webhookId: id } : { givenUp: true }, values.subscriber);
    console.log(`events: ${owed} owed again; the worker delivers them within seconds`);
    return 0;
  } finally {
    await closeDb();
  }
}

process.exit(await main());
