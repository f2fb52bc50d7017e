import { spawn } from "node:child_process";
import { appendFileSync, createWriteStream, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { migrate } from "../lib/db-migrate.ts";
import { E2E_METRICS_TOKEN, e2eAppEnv } from "../testing/support/e2e-app.ts";
import { e2eSlot } from "../testing/support/e2e-slots.ts";
import { startSmtpServer } from "../testing/support/smtp.ts";
import { allowMockPipedriveHost, startEmbeddedPostgres } from "./support/embedded-postgres.ts";
import { productionServer, ROOT, tsx } from "./support/local-env.ts";
import { seed } from "./support/seed.ts";

// The app as QA runs it: a fresh embedded PostgreSQL, migrated and seeded, and the production
// build under `next start`. Server output is teed to e2e/.state/server.log so specs can
// check that no token ever reaches a log line.

const STATE_DIR = path.join(ROOT, "e2e", ".state");
const port = process.env.E2E_APP_PORT ?? "3100";
const mockPort = process.env.E2E_MOCK_PORT ?? "4110";
const slots = Number(process.env.E2E_SLOTS ?? 1);

mkdirSync(STATE_DIR, { recursive: true });
const db = await startEmbeddedPostgres({
  dataDir: mkdtempSync(path.join(tmpdir(), "crm-e2e-pg-")),
  database: "crm_e2e",
  ephemeral: true,
});
await migrate(db.url);
await allowMockPipedriveHost(db.url, `localhost:${mockPort}`);
await seed(db.url);
// Slot 0 is the demo just seeded; each further Playwright worker gets workspaces of its own.
for (let slot = 1; slot < slots; slot++) {
  const { tenants, users } = e2eSlot(slot);
  await seed(db.url, tenants, users);
}
writeFileSync(path.join(STATE_DIR, "database-url"), db.url);

const log = createWriteStream(path.join(STATE_DIR, "server.log"));
// A real SMTP server for the keeper's mail; what it receives, one JSON line each, for the specs.
const mailFile = path.join(STATE_DIR, "mail.jsonl");
writeFileSync(mailFile, "");
const smtp = await startSmtpServer((mail) => appendFileSync(mailFile, `${JSON.stringify(mail)}\n`));
const appEnv: NodeJS.ProcessEnv = {
  ...process.env,
  ...e2eAppEnv({ appUrl: `http://localhost:${port}`, mockPort, databaseUrl: db.url }),
  // The specs stand in for one proxy in front: each sets the X-Forwarded-For entry that proxy
  // would append, to keep its rate-limit counts to itself. The default (none) has its own spec.
  TRUSTED_PROXIES: "1",
  SMTP_URL: smtp.url,
  METRICS_TOKEN: E2E_METRICS_TOKEN,
};
const server = productionServer(port, { loopback: true });
const child = spawn(server.command, server.args, {
  cwd: ROOT,
  env: { ...appEnv, ...server.env },
  stdio: ["ignore", "pipe", "pipe"],
});
// The keeper runs beside the app, as in a deployment; its log goes to the same file.
const keeper = spawn(...tsx(path.join(ROOT, "scripts", "worker.ts")), {
  cwd: ROOT,
  env: appEnv,
  stdio: ["ignore", "pipe", "pipe"],
});
for (const stream of [child.stdout, child.stderr, keeper.stdout, keeper.stderr]) {
  stream.on("data", (chunk: Buffer) => {
    log.write(chunk);
    process.stdout.write(chunk);
  });
}

let stopping = false;
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  for (const proc of [keeper, child]) {
    if (proc.exitCode !== null || proc.signalCode !== null) continue;
    proc.kill("SIGTERM");
    await new Promise((resolve) => proc.once("exit", resolve));
  }
  log.end();
  await smtp.close();
  await db.stop();
  process.exit(code);
}
child.on("exit", (code) => void stop(code ?? 0));
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
