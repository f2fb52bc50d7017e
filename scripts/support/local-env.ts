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
const RUNTIME_FILE = path.join(DATA_DIR, "runtime.json");

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
  const vars: Record<string, string> = { DATABASE_URL: databaseUrl, AUTH_SECRET: authSecret(), APP_URL: appUrl(), NEXT_TELEMETRY_DISABLED: "1" };
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

const runtimeFile = z.object({ databaseUrl: z.string(), pid: z.number().int() });
type Runtime = z.infer<typeof runtimeFile>;

/**
 * The database to use: DATABASE_URL if set; else the embedded one `npm run dev` is running;
 * else start the embedded one here (the caller stops it).
 */
export async function resolveDatabase(log = (line: string) => console.log(line)): Promise<{ url: string; embedded: EmbeddedDb | null }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, embedded: null };
  const running = readRuntime();
  if (running) return { url: running.databaseUrl, embedded: null };
  log("[db] DATABASE_URL is not set: starting the embedded PostgreSQL in .data/postgres");
  const embedded = await startEmbeddedPostgres({ dataDir: path.join(DATA_DIR, "postgres"), database: "crm" });
  return { url: embedded.url, embedded };
}

function readRuntime(): Runtime | null {
  if (!existsSync(RUNTIME_FILE)) return null;
  try {
    const runtime = runtimeFile.parse(JSON.parse(readFileSync(RUNTIME_FILE, "utf8")));
    process.kill(runtime.pid, 0);
    return runtime;
  } catch {
    return null;
  }
}

export function writeRuntime(databaseUrl: string) {
  writeFileSync(RUNTIME_FILE, JSON.stringify({ databaseUrl, pid: process.pid } satisfies Runtime));
}

export function clearRuntime() {
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
