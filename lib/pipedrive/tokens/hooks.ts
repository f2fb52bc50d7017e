import { describe } from "../../errors.ts";
import { log } from "../../log.ts";
import { count } from "../../metrics/metric-store.ts";

// Reactions to a refresh's outcome (logs now; mail and metrics can subscribe the same way)
// are hooks, not calls written into the refresh path. A hook can never fail a token call.

export type RefreshOutcome =
  | { tenantId: string; result: "renewed"; recovered: boolean }
  | { tenantId: string; result: "needs_reconnect"; reason: string };

type Listener = (outcome: RefreshOutcome) => void | Promise<void>;

const listeners = new Set<Listener>();

/** Subscribes to every refresh outcome in this process; returns the unsubscribe. */
export function onRefreshOutcome(listener: Listener): () => void {
  listeners.add(listener);
  return () => void listeners.delete(listener);
}

export async function emitRefreshOutcome(outcome: RefreshOutcome): Promise<void> {
  for (const listener of listeners) {
    try {
      await listener(outcome);
    } catch (error) {
      log().error({ tenant: outcome.tenantId, error: describe(error) }, "refresh outcome hook failed");
    }
  }
}

onRefreshOutcome((outcome) => count("pipedrive_refreshes_total", outcome.result));

onRefreshOutcome((outcome) => {
  if (outcome.result === "needs_reconnect") {
    log().warn(
      { tenant: outcome.tenantId, outcome: outcome.result, reason: outcome.reason },
      "pipedrive connection needs a reconnect",
    );
  } else if (outcome.recovered) {
    log().info({ tenant: outcome.tenantId, outcome: "recovered" }, "pipedrive connection works again");
  }
});
