import "server-only";

import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";

import { sameSecret } from "../crypto.ts";
import type { Env } from "../env.ts";
import { pendingNotifications } from "../notifications/notification-store.ts";
import { CONDITIONS, viewStatusOf } from "../pipedrive/conditions.ts";
import { tokensToday, usageWritten } from "../pipedrive/lookup/usage-store.ts";
import { deliveryStats } from "../services/service-event-store.ts";
import {
  connectionsByStatus,
  counters,
  countsWritten,
  keeperLagSeconds,
  rateLimitedCompanies,
  type CountedMetric,
} from "./metric-store.ts";

// /api/metrics in Prometheus's text format. Gauges are read from the database at scrape time;
// counters are the shared event counts every process writes (metric-store).

/** Every status the status view can say, from the one list of conditions. */
const STATUSES = [...new Set(CONDITIONS.map(viewStatusOf))];

function buildRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: "pipedrive_connections",
    help: "Connected workspaces by status (as lead_pipedrive_integration_status says)",
    labelNames: ["status"],
    registers: [registry],
    async collect() {
      const rows = await connectionsByStatus();
      for (const status of STATUSES) this.set({ status }, rows.find((r) => r.status === status)?.count ?? 0);
    },
  });
  new Gauge({
    name: "pipedrive_keeper_lag_seconds",
    help: "How overdue the most overdue token renewal is",
    registers: [registry],
    async collect() {
      this.set(await keeperLagSeconds(new Date()));
    },
  });
  new Gauge({
    name: "pipedrive_rate_limited_companies",
    help: "Pipedrive companies whose request limit is spent right now",
    registers: [registry],
    async collect() {
      this.set(await rateLimitedCompanies(new Date()));
    },
  });
  // Totals only: a label per company would publish each customer's Pipedrive host (the
  // settings page shows a workspace its own figure).
  new Gauge({
    name: "pipedrive_api_tokens_today",
    help: "Estimated Pipedrive API tokens our calls spent today (UTC), all companies, from documented costs",
    registers: [registry],
    async collect() {
      this.set((await tokensToday(new Date())).apiTokens);
    },
  });
  new Gauge({
    name: "pipedrive_api_companies_today",
    help: "Pipedrive companies our calls spent API tokens on today (UTC)",
    registers: [registry],
    async collect() {
      this.set((await tokensToday(new Date())).companies);
    },
  });
  new Gauge({
    name: "pipedrive_notifications_pending",
    help: "Mail to admins not yet delivered",
    registers: [registry],
    async collect() {
      this.set(await pendingNotifications());
    },
  });
  new Gauge({
    name: "pipedrive_service_events_deliveries",
    help: "Deliveries of connection events per subscriber over the two days kept, by state (owed, delivered, given_up)",
    labelNames: ["subscriber", "state"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of await deliveryStats(new Date())) {
        this.set({ subscriber: s.subscriber, state: "owed" }, s.owed);
        this.set({ subscriber: s.subscriber, state: "delivered" }, s.delivered);
        this.set({ subscriber: s.subscriber, state: "given_up" }, s.givenUp);
      }
    },
  });
  new Gauge({
    name: "pipedrive_service_events_oldest_undelivered_seconds",
    help: "Per subscriber, the age of the oldest connection event not yet delivered: alert past an hour",
    labelNames: ["subscriber"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of await deliveryStats(new Date())) this.set({ subscriber: s.subscriber }, s.oldestSeconds);
    },
  });
  const counted: [CountedMetric, string, string][] = [
    ["pipedrive_refreshes_total", "outcome", "Token refreshes by outcome (renewed, refused, failed, needs_reconnect)"],
    ["lookups_total", "outcome", "Phone lookups by outcome"],
    ["pipedrive_answers_total", "class", "Answers from Pipedrive by status class (or timeout, network_error)"],
    [
      "pipedrive_api_waits_total",
      "reason",
      "Times a process held its calls to a company for a burst window (at most 60 s): a 429, or a 2xx saying none are left",
    ],
  ];
  for (const [name, label, help] of counted) {
    new Counter({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      async collect() {
        this.reset();
        for (const row of await counters(name)) this.inc({ [label]: row.label }, row.value);
      },
    });
  }
  return registry;
}

let registry: Registry | undefined;

export async function metricsText(): Promise<{ text: string; contentType: string }> {
  registry ??= buildRegistry();
  // This process's own counts are in; other processes write theirs within a second.
  await Promise.all([countsWritten(), usageWritten()]);
  return { text: await registry.metrics(), contentType: registry.contentType };
}

/**
 * Who may read the metrics: with METRICS_TOKEN set, a request bearing it; without one, only the
 * demo the launcher started (DEMO=1), never a deployment, whatever else it is configured with.
 */
export function metricsAccess(
  e: Pick<Env, "METRICS_TOKEN" | "DEMO">,
  authorization: string | null,
): "ok" | "unauthorized" | "not_configured" {
  if (!e.METRICS_TOKEN) return e.DEMO ? "ok" : "not_configured";
  return sameSecret(authorization ?? "", `Bearer ${e.METRICS_TOKEN}`) ? "ok" : "unauthorized";
}
