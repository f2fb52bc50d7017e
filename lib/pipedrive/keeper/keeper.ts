import PgBoss from "pg-boss";

import { listen } from "../../db-listen.ts";
import { AppError, describe, type ErrorCode } from "../../errors.ts";
import { oneAtATime } from "../../jobs/setup-lock.ts";
import { deliverDue } from "../../notifications/deliver.ts";
import { expireStaleNotifications, NOTIFICATIONS_CHANNEL } from "../../notifications/notification-store.ts";
import { purgeOldServiceEvents } from "../../services/service-event-store.ts";
import { purgeAbandonedInstalls } from "../connect/marketplace.ts";
import { noteResumedPauses, setNextVisit } from "../connection/connection-store.ts";
import { healsByProbe } from "../connection/lifecycle.ts";
import type { PipedriveContext } from "../context.ts";
import { purgeOldLookups } from "../lookup/lookup-store.ts";
import { probeConnection, renewForKeeper } from "../tokens/access.ts";
import { readSchedule, repairApiDomains } from "../tokens/contract-store.ts";
import { nextVisit } from "../tokens/policy.ts";
import { beat, dueConnections, purgeExpiredStates } from "./keeper-store.ts";

// The token keeper: a pg-boss cron job finds connections whose renewal is due; one job per
// tenant renews it through the same exactly-once path as a just-in-time refresh (row lock,
// re-check under it). Any number of keeper processes may run on one database: pg-boss runs
// each scheduled scan once, the tenant's queue holds at most one waiting and one running job
// per tenant, and the row lock makes a second renewal in the same window a no-op.

export const QUEUES = {
  scan: "pipedrive-keeper-scan",
  renew: "pipedrive-token-renew",
  purge: "pipedrive-state-purge",
  notify: "pipedrive-notify",
} as const;

/** Renewals that ended in a condition already recorded on the connection (by the move executor or a pause). */
const RECORDED = [
  "needs_reconnect",
  "renewal_checking",
  "not_connected",
  "api_domain_invalid",
  "app_credentials_rejected",
  "subscription_lapsed",
  "access_forbidden",
] as const satisfies readonly ErrorCode[];

/** How a renewal ended. */
export type RenewOutcome = "renewed" | "fresh" | "failed" | (typeof RECORDED)[number];

export type KeeperLog = (event: string, fields: Record<string, unknown>) => void;

export type KeeperOptions = {
  databaseUrl: string;
  ctx: PipedriveContext;
  /** Renewals at once in this process; each holds one refresh connection while it talks to Pipedrive. */
  concurrency: number;
  log: KeeperLog;
  /** Most connections queued per scan. */
  scanLimit?: number;
  /** Where mail to admins goes; without it the keeper sends none. */
  smtpUrl?: string;
  /** pg-boss polling, in seconds: short in tests. */
  pollingIntervalSeconds?: number;
};

export type Keeper = {
  /** Runs a scan now, as the schedule would. */
  scan: () => Promise<{ due: number; queued: number }>;
  /** Delivers the mail that is due now, as the schedule would; how many notifications it handled. */
  notify: () => Promise<number>;
  stop: () => Promise<void>;
  onRenewed: (listener: (tenantId: string, outcome: RenewOutcome) => void) => void;
};

export async function startKeeper(options: KeeperOptions): Promise<Keeper> {
  const { ctx, log } = options;
  const boss = new PgBoss({ connectionString: options.databaseUrl, max: 3, application_name: "crm-keeper" });
  boss.on("error", (error: unknown) => log("keeper_error", { error: describe(error) }));
  await boss.start();
  await oneAtATime(options.databaseUrl, async () => {
    await boss.createQueue(QUEUES.scan, { name: QUEUES.scan, policy: "singleton", expireInSeconds: 120 });
    // stately: per tenant (singletonKey), at most one job waiting and one running.
    await boss.createQueue(QUEUES.renew, {
      name: QUEUES.renew,
      policy: "stately",
      expireInSeconds: 300,
      retryLimit: 2,
      retryDelay: 30,
    });
    await boss.createQueue(QUEUES.purge, { name: QUEUES.purge, policy: "singleton", expireInSeconds: 120 });
    await boss.createQueue(QUEUES.notify, { name: QUEUES.notify, policy: "singleton", expireInSeconds: 300 });
    await boss.schedule(QUEUES.scan, "* * * * *");
    await boss.schedule(QUEUES.notify, "* * * * *");
    await boss.schedule(QUEUES.purge, "*/10 * * * *");
  });

  const listeners: ((tenantId: string, outcome: RenewOutcome) => void)[] = [];
  const polling = { pollingIntervalSeconds: options.pollingIntervalSeconds ?? 2 };

  async function scan() {
    const now = ctx.now();
    const due = await dueConnections(now, options.scanLimit ?? 5_000);
    if (due.length)
      await boss.insert(due.map((tenantId) => ({ name: QUEUES.renew, data: { tenantId }, singletonKey: tenantId })));
    const queued = due.length;
    const resumed = await noteResumedPauses(now);
    if (resumed) log("keeper_pauses_resumed", { resumed });
    await beat("scan", now, { due: due.length });
    if (due.length) log("keeper_scan", { due: due.length });
    return { due: due.length, queued };
  }

  async function renew(tenantId: string): Promise<RenewOutcome> {
    let outcome: RenewOutcome;
    try {
      const token = await renewForKeeper(ctx, tenantId);
      outcome = token.renewed ? "renewed" : "fresh";
      // Pipedrive's API refused this connection (402, 403): one cheap call tells whether it works again.
      if (healsByProbe(token.status)) {
        const status = await probeConnection(ctx, tenantId);
        if (status !== "connected") outcome = status;
      }
    } catch (error) {
      outcome = error instanceof AppError && isRecorded(error.code) ? error.code : "failed";
      if (outcome === "failed") log("keeper_renew_failed", { tenantId, error: describe(error) });
    }
    // From the row as it is now (another writer may have renewed it); a failure comes back no sooner than a minute.
    const schedule = await readSchedule(tenantId);
    if (schedule) await setNextVisit(tenantId, nextVisit(schedule, ctx.keeper, ctx.now()));
    for (const listener of listeners) listener(tenantId, outcome);
    return outcome;
  }

  await boss.work(QUEUES.scan, polling, async () => void (await scan()));
  // Mail to admins, after the state changes it reports have committed (an outbox: see
  // lib/notifications). One at a time under a row lock, so keepers never send one twice.
  const smtpUrl = options.smtpUrl;
  const notify = async () => (smtpUrl ? deliverDue(ctx.now(), { smtpUrl }) : 0);
  if (smtpUrl) await boss.work(QUEUES.notify, polling, async () => void (await notify()));
  // And as soon as a mail is owed: its change committed, so admins hear within seconds.
  const wake = smtpUrl
    ? await listen(
        options.databaseUrl,
        NOTIFICATIONS_CHANNEL,
        () => void boss.send(QUEUES.notify, {}).catch(() => {}),
        log,
      )
    : null;
  await boss.work(QUEUES.purge, polling, async () => {
    const now = ctx.now();
    const purged = {
      states: await purgeExpiredStates(now),
      lookups: await purgeOldLookups(now),
      installs: await purgeAbandonedInstalls(ctx),
      apiDomainsRepaired: await repairApiDomains(),
      serviceEvents: await purgeOldServiceEvents(now),
      notifications: await expireStaleNotifications(now),
    };
    await beat("purge", now, purged);
  });
  if (options.concurrency > 0) {
    // pg-boss waits out its polling interval after every fetch, even a full one: fetch a few
    // rounds of work at once and renew them `concurrency` at a time, so renewals run back to back.
    await boss.work<{ tenantId: string }>(
      QUEUES.renew,
      { pollingIntervalSeconds: 0.5, batchSize: options.concurrency * 4 },
      async (jobs) => {
        await inParallel(jobs, options.concurrency, (job) => renew(job.data.tenantId));
      },
    );
  }
  log("keeper_started", {
    concurrency: options.concurrency,
    windowSeconds: ctx.keeper.windowSeconds,
    idleDays: ctx.keeper.idleDays,
  });
  // Right away, not at the next minute: after a deploy or an outage, due tokens cannot wait.
  if (options.concurrency > 0) await scan();

  return {
    scan,
    notify,
    onRenewed: (listener) => void listeners.push(listener),
    // Graceful: running renewals finish (each is bounded by the HTTP timeout), nothing new starts.
    stop: async () => {
      await wake?.stop();
      await boss.stop({ graceful: true, wait: true, timeout: 30_000 });
    },
  };
}

/** Runs `work` over `items`, at most `limit` at a time. */
async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

function isRecorded(code: ErrorCode): code is (typeof RECORDED)[number] {
  return (RECORDED as readonly ErrorCode[]).includes(code);
}
