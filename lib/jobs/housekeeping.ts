import PgBoss from "pg-boss";

import { purgeStaleAddresses } from "../auth/known-client-store.ts";
import { describe } from "../errors.ts";
import { purgeExpiredCounters } from "../rate-limit-store.ts";
import { oneAtATime } from "./setup-lock.ts";

// The CRM's own housekeeping, apart from Pipedrive's keeper: every 10 minutes, sign-in addresses
// past their window and rate-limit counters past their expiry go. One pg-boss queue with a
// singleton policy, so any number of workers on one database run each pass once.

export const HOUSEKEEPING_QUEUE = "crm-housekeeping";

export type Housekeeping = {
  /** Runs a pass now, as the schedule would; what it purged. */
  run: () => Promise<{ signInAddresses: number; counters: number }>;
  stop: () => Promise<void>;
};

export async function startHousekeeping(options: {
  databaseUrl: string;
  now: () => Date;
  log: (event: string, fields: Record<string, unknown>) => void;
  pollingIntervalSeconds?: number;
}): Promise<Housekeeping> {
  // The keeper's pg-boss supervises the job tables; this one only schedules and works its queue.
  const boss = new PgBoss({
    connectionString: options.databaseUrl,
    max: 2,
    application_name: "crm-housekeeping",
    supervise: false,
  });
  boss.on("error", (error: unknown) => options.log("housekeeping_error", { error: describe(error) }));
  await boss.start();
  await oneAtATime(options.databaseUrl, async () => {
    await boss.createQueue(HOUSEKEEPING_QUEUE, { name: HOUSEKEEPING_QUEUE, policy: "singleton", expireInSeconds: 120 });
    await boss.schedule(HOUSEKEEPING_QUEUE, "*/10 * * * *");
  });
  const run = async () => {
    const now = options.now();
    return { signInAddresses: await purgeStaleAddresses(now), counters: await purgeExpiredCounters(now) };
  };
  await boss.work(HOUSEKEEPING_QUEUE, { pollingIntervalSeconds: options.pollingIntervalSeconds ?? 2 }, async () => {
    options.log("housekeeping", await run());
  });
  return { run, stop: () => boss.stop({ graceful: true, wait: true, timeout: 30_000 }) };
}
