import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

import { z } from "zod";

import { startEmbeddedPostgres, type EmbeddedDb } from "./embedded-postgres.ts";

// Zero-setup defaults for local runs. Whatever the environment sets wins; what it leaves out
// is filled in here: an embedded PostgreSQL under .data/, a generated AUTH_SECRET, and the
// local mock Pipedrive when no Pipedrive client is configured (demo mode).

export const ROOT = path.join(import.meta.dirname, "..", "..");
export const DATA_DIR = path.join(ROOT, ".data");

/**
 * How our own TypeScript scripts are started: under the react-server condition, as Next.js runs
 * server code, so modules marked `import "server-only"` load in the worker and the CLIs too.
 */
export function tsx(script: string, ...args: string[]): [string, string[]] {
  return [path.join(ROOT, "node_modules", ".bin", "tsx"), ["--conditions=react-server", script, ...args]];
}
/**
 * The production server on `port` (scripts/server.ts): Next.js behind a node:http server that
 * knows each client's address. Not under react-server: it runs Next.js itself, not our server code.
 */
export function productionServer(
  port: number | string,
  options: { loopback?: boolean } = {},
): { command: string; args: string[]; env: { PORT: string; HOSTNAME?: string } } {
  return {
    command: path.join(ROOT, "node_modules", ".bin", "tsx"),
    args: [path.join(ROOT, "scripts", "server.ts")],
    env: { PORT: String(port), ...(options.loopback ? { HOSTNAME: LOOPBACK } : {}) },
  };
}

/**
 * Where a demo, a test or a dev server listens: this machine only. The demo's passwords are
 * published, so nothing else on the network may reach it; only a deployment listens wider.
 */
export const LOOPBACK = "127.0.0.1";

// Tests point it elsewhere, so they never read or clobber a real `npm run dev`'s record.
const RUNTIME_FILE = process.env.CRM_RUNTIME_FILE || path.join(DATA_DIR, "runtime.json");

export const MOCK_CLIENT = { id: "mock-client-id", secret: "mock-client-secret" };

export function appUrl(): string {
  return (process.env.APP_URL || `http://localhost:${process.env.PORT || 3000}`).replace(/\/+$/, "");
}

export function mockPort(): number {
  return Number(process.env.MOCK_PIPEDRIVE_PORT || 4010);
}

export function isDemoMode(): boolean {
  return !process.env.PIPEDRIVE_CLIENT_ID;
}

function authSecret(): string {
  if (process.env.AUTH_SECRET) return process.env.AUTH_SECRET;
  const file = path.join(DATA_DIR, "auth-secret");
  if (!existsSync(file)) {
    mkdirSync(DATA_DIR, { recursive: true });
    writeFileSync(file, randomBytes(32).toString("base64url"), { mode: 0o600 });
  }
  return readFileSync(file, "utf8").trim();
}

/** Variables for the app and the CLIs, on top of what the environment already has. */
export function localEnv(databaseUrl: string): Record<string, string> {
  const vars: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    AUTH_SECRET: authSecret(),
    APP_URL: appUrl(),
    NEXT_TELEMETRY_DISABLED: "1",
  };
  if (isDemoMode()) {
    const port = mockPort();
    Object.assign(vars, {
      PIPEDRIVE_CLIENT_ID: MOCK_CLIENT.id,
      PIPEDRIVE_CLIENT_SECRET: MOCK_CLIENT.secret,
      PIPEDRIVE_OAUTH_BASE_URL: `http://localhost:${port}`,
      PIPEDRIVE_MOCK_HOST: `localhost:${port}`,
    });
  }
  return vars;
}

// What a running `npm run dev` tells the CLIs: its database and the settings it gave the app,
// so `npm run enrich` and `npm run worker` talk to the same Pipedrive. No secret is written:
// AUTH_SECRET stays in .data/auth-secret, and a real app's client secret stays in the environment.
const runtimeFile = z.object({
  databaseUrl: z.string(),
  /** The embedded database this checkout runs; a given one is recorded without its password. */
  embedded: z.boolean(),
  pid: z.number().int(),
  demo: z.boolean(),
  settings: z.record(z.string(), z.string()),
});
type Runtime = z.infer<typeof runtimeFile>;

const SECRET_SETTINGS = new Set(["AUTH_SECRET", "PIPEDRIVE_CLIENT_SECRET", "DATABASE_URL"]);

/** The app's settings as `npm run dev` passes them, less the secrets. */
function publicSettings(vars: Record<string, string>): Record<string, string> {
  const names = Object.keys(vars).filter(
    (name) => /^(APP_URL|PORT|PIPEDRIVE_|OAUTH_|PHONE_|KEEPER_|LOG_)/.test(name) && !SECRET_SETTINGS.has(name),
  );
  return Object.fromEntries(names.map((name) => [name, vars[name]!]));
}

export class CliRefusal extends Error {}

/**
 * The full environment for a CLI that talks to Pipedrive: exactly what the running
 * `npm run dev` uses, or, with DATABASE_URL set, what this environment says. Refuses when it
 * cannot tell, rather than guess a mock port and send a tenant's tokens to whatever is there.
 */
export function cliEnv(): Record<string, string> {
  if (process.env.DATABASE_URL) return { ...localEnv(process.env.DATABASE_URL), ...definedEnv() };
  const running = readRuntime();
  if (running === "unreadable") {
    throw new CliRefusal(
      `cannot read ${path.relative(ROOT, RUNTIME_FILE)}, written by npm run dev: restart npm run dev, or set DATABASE_URL and the Pipedrive settings`,
    );
  }
  if (!running)
    throw new CliRefusal(
      "npm run dev is not running: start it first, or set DATABASE_URL and the Pipedrive settings (see README, Configuration)",
    );
  const vars: Record<string, string> = {
    ...running.settings,
    DATABASE_URL: running.databaseUrl,
    AUTH_SECRET: authSecret(),
  };
  if (running.demo) vars.PIPEDRIVE_CLIENT_SECRET = MOCK_CLIENT.secret;
  else if (process.env.PIPEDRIVE_CLIENT_SECRET) vars.PIPEDRIVE_CLIENT_SECRET = process.env.PIPEDRIVE_CLIENT_SECRET;
  else
    throw new CliRefusal(
      `the running npm run dev uses the Pipedrive app ${running.settings.PIPEDRIVE_CLIENT_ID ?? "(unknown)"}: set PIPEDRIVE_CLIENT_SECRET to its secret`,
    );
  return vars;
}

/**
 * Sets up a CLI's environment (cliEnv) in this process; when it refuses, says why in one line
 * prefixed by the CLI's name and answers false, for the CLI to exit 2.
 */
export function adoptCliEnv(name: string): boolean {
  try {
    Object.assign(process.env, cliEnv());
    return true;
  } catch (error) {
    if (!(error instanceof CliRefusal)) throw error;
    console.error(`${name}: ${error.message}`);
    return false;
  }
}

function definedEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ""),
  );
}

/**
 * The database to use: DATABASE_URL if set; else the embedded one `npm run dev` is running;
 * else start the embedded one here (the caller stops it).
 */
export async function resolveDatabase(
  log = (line: string) => console.log(line),
): Promise<{ url: string; embedded: EmbeddedDb | null; local: boolean }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, embedded: null, local: false };
  const running = readRuntime();
  if (running && running !== "unreadable" && running.embedded)
    return { url: running.databaseUrl, embedded: null, local: true };
  log("[db] DATABASE_URL is not set: starting the embedded PostgreSQL in .data/postgres");
  const embedded = await startEmbeddedPostgres({ dataDir: path.join(DATA_DIR, "postgres"), database: "crm" });
  return { url: embedded.url, embedded, local: true };
}

/** The running `npm run dev`'s record; null when none runs, "unreadable" when it cannot be trusted. */
function readRuntime(): Runtime | "unreadable" | null {
  if (!existsSync(RUNTIME_FILE)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(RUNTIME_FILE, "utf8"));
  } catch {
    return "unreadable";
  }
  const pid = z.object({ pid: z.number().int() }).safeParse(raw);
  if (!pid.success) return "unreadable";
  if (!isAlive(pid.data.pid)) return null;
  const runtime = runtimeFile.safeParse(raw);
  return runtime.success ? runtime.data : "unreadable";
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Records this process as the running one, unless another live one already is: a second
 * `npm start` in the same checkout neither overwrites nor (clearRuntime) deletes its record.
 */
export function writeRuntime(databaseUrl: string, embedded: boolean): boolean {
  const running = readRuntime();
  if (running && running !== "unreadable" && running.pid !== process.pid) return false;
  const runtime: Runtime = {
    databaseUrl: embedded ? databaseUrl : withoutPassword(databaseUrl),
    embedded,
    pid: process.pid,
    demo: isDemoMode(),
    settings: publicSettings({ ...definedEnv(), ...localEnv(databaseUrl) }),
  };
  writeFileSync(RUNTIME_FILE, JSON.stringify(runtime), { mode: 0o600 });
  return true;
}

function withoutPassword(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.password = "";
  return url.toString();
}

/** Removes the record, if it is this process's. */
export function clearRuntime() {
  const running = readRuntime();
  if (running && running !== "unreadable" && running.pid !== process.pid) return;
  if (running === "unreadable") return;
  rmSync(RUNTIME_FILE, { force: true });
}

/**
 * For the one-shot database commands: runs `work` on the resolved database, reports a failure
 * as one line, stops an embedded server it started, and exits with the right code.
 */
export async function runOnDatabase(what: string, work: (url: string) => Promise<void>): Promise<never> {
  const { url, embedded } = await resolveDatabase();
  let code = 0;
  try {
    await work(url);
  } catch (error) {
    console.error(`[db] ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
    code = 1;
  } finally {
    await embedded?.stop();
  }
  // tsx does not pass process.exitCode on; exit explicitly.
  process.exit(code);
}
