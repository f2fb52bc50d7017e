import { adoptCliEnv } from "./support/local-env.ts";

// `npm run worker`: the token keeper and the CRM's housekeeping, long-running pg-boss workers.
// Run as many as you like on one database. SIGTERM or Ctrl-C lets running renewals finish, then exits.

if (!adoptCliEnv("worker")) process.exit(2);
const { env } = await import("../lib/env.ts");
const { pipedrive } = await import("../lib/pipedrive/context.ts");
const { startKeeper } = await import("../lib/pipedrive/keeper/keeper.ts");
const { startHousekeeping } = await import("../lib/jobs/housekeeping.ts");
const { startEventDelivery } = await import("../lib/services/event-delivery.ts");
const { checkDatabase, closeDb } = await import("../lib/db.ts");
const { log } = await import("../lib/log.ts");

try {
  await checkDatabase();
} catch (error) {
  console.error(`worker: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
const settings = env();
const keeper = await startKeeper({
  databaseUrl: settings.DATABASE_URL,
  ctx: pipedrive(),
  concurrency: settings.KEEPER_CONCURRENCY,
  smtpUrl: settings.SMTP_URL,
  log: (event, fields) => log().info({ keeper: true, ...fields }, event),
});

const housekeeping = await startHousekeeping({
  databaseUrl: settings.DATABASE_URL,
  now: () => new Date(),
  log: (event, fields) => log().info({ housekeeping: true, ...fields }, event),
});

// Connection events for services, to everyone an operator named; naming none stops owing them.
const events = await startEventDelivery(settings.eventSubscribers, (event, fields) =>
  log().info({ events: true, ...fields }, event),
);

if (!settings.SMTP_URL) log().warn({ keeper: true }, "mail to admins is off: SMTP_URL is not set");

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  log().info({ keeper: true }, "keeper stopping: letting running renewals finish");
  await Promise.all([keeper.stop(), housekeeping.stop(), events.stop()]);
  await closeDb();
  process.exit(0);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
