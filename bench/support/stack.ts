import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

import { encode } from "next-auth/jwt";
import pg from "pg";

import { migrate } from "../../lib/db-migrate.ts";
import { issueState, stateKey } from "../../lib/pipedrive/connect/state.ts";
import { startEmbeddedPostgres, type EmbeddedDb } from "../../scripts/support/embedded-postgres.ts";
import { productionServer, ROOT, tsx } from "../../scripts/support/local-env.ts";
import { CONTROL_HEADER } from "../../testing/mock-pipedrive/model.ts";
import { createTestRows } from "../../testing/test-rows.ts";

/** A call to the mock's control endpoints (they answer only calls that carry the header). */
export function mockControl(mockUrl: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${mockUrl}/__mock/${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { [CONTROL_HEADER]: "1" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

// The whole system on loopback for benchmarks and load runs: a fresh embedded PostgreSQL, the
// mock Pipedrive and the production build (`next start`), each its own process.

export const AUTH_SECRET = "bench-auth-secret-bench-auth-secret-bench";
export const CLIENT = { id: "mock-client-id", secret: "mock-client-secret" };
export const SESSION_COOKIE = "authjs.session-token";
/** The bench's service key to the token endpoint; its calls a minute are not what is measured. */
export const BENCH_SERVICE_KEY = "bench-service-key-bench-service-key-0001";

export type Stack = Awaited<ReturnType<typeof startStack>>;
export type BenchTenant = { tenantId: string; userId: string; name: string };

/**
 * The Pipedrive user (of the mock's company 7001) each bench tenant connects as: one install per
 * tenant, as each workspace would have in Pipedrive.
 */
export const pipedriveUserOf = (tenant: BenchTenant) =>
  1_000_000 + (parseInt(tenant.tenantId.slice(0, 7), 16) % 1_000_000_000);

const bin = (name: string) => path.join(ROOT, "node_modules", ".bin", name);

/** The bench's own app (bench/floor-app): the settings page's floor, /bench-floor. */
const FLOOR_APP = path.join(ROOT, "bench", "floor-app");

/**
 * The production build of the app, and of the bench's floor app, each made when there is none or
 * when its sources changed since the last one.
 */
export async function ensureBuild(log: (line: string) => void, options: { floor?: boolean } = {}) {
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((max, entry) => {
      if (entry.name === "generated") return max;
      const full = path.join(dir, entry.name);
      return Math.max(max, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
    }, 0);
  const sources = Math.max(newest(path.join(ROOT, "app")), newest(path.join(ROOT, "lib")));
  const stale = (dir: string, since: number) => {
    const buildId = path.join(dir, ".next", "BUILD_ID");
    return !existsSync(buildId) || statSync(buildId).mtimeMs <= since;
  };
  if (stale(ROOT, sources)) {
    log("building the app (next build)…");
    await run(bin("next"), ["build"]);
  }
  if (options.floor && stale(FLOOR_APP, Math.max(sources, newest(path.join(FLOOR_APP, "app"))))) {
    log("building the bench's floor app (next build bench/floor-app)…");
    await run(bin("next"), ["build", FLOOR_APP]);
  }
}

function run(command: string, args: string[]) {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
    });
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(" ")} exited ${code}`)),
    );
  });
}

/** Refuses a port something already listens on, naming it. */
export async function ensureFree(port: number): Promise<void> {
  for (const host of ["127.0.0.1", "::1"]) {
    const taken = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "EADDRINUSE"));
      probe.listen(port, host, () => probe.close(() => resolve(false)));
    });
    if (taken)
      throw new Error(`port ${port} is taken on ${host} (another server?): the bench measures only servers it starts`);
  }
}

async function waitFor(url: string, child: ChildProcess, what: string) {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${what} did not come up at ${url}`);
}

export async function startStack(options: {
  appPort: number;
  mockPort: number;
  baselinePort?: number;
  /** Where the floor app (bench/floor-app) listens, when a scenario measures against it. */
  floorPort?: number;
  tenants: number;
  instances?: number;
  /** Where the first app instance writes a V8 CPU profile when it stops (`--cpu-prof`). */
  cpuProfileDir?: string;
  /** Settings of the app instances beside the stack's own (a smaller pool for the overload run). */
  appSettings?: Record<string, string>;
}) {
  // Every port it will use must be free, on both loopback addresses "localhost" may mean: a
  // server already there would answer the bench's requests, and it would measure that.
  const ports = [
    ...Array.from({ length: options.instances ?? 1 }, (_, i) => options.appPort + i),
    options.mockPort,
    options.baselinePort,
    options.floorPort,
  ].filter((port): port is number => port !== undefined);
  for (const port of ports) await ensureFree(port);
  const children: ChildProcess[] = [];
  const db: EmbeddedDb = await startEmbeddedPostgres({
    dataDir: mkdtempSync(path.join(tmpdir(), "crm-bench-pg-")),
    database: "crm_bench",
    ephemeral: true,
  });
  await migrate(db.url);
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  pool.on("error", () => {}); // idle clients see the server go away at shutdown
  const tenants = await createTenants(pool, options.tenants);

  const appUrl = `http://localhost:${options.appPort}`;
  const mockUrl = `http://localhost:${options.mockPort}`;
  const redirects = [`${appUrl}/api/integrations/pipedrive/callback`];
  if (options.baselinePort) redirects.push(`http://localhost:${options.baselinePort}/callback`);
  /** "Allow" on the mock's consent page, as this tenant's Pipedrive user: the code it redirects with. */
  const allow = async (tenant: BenchTenant, consent: URLSearchParams) => {
    const form = new URLSearchParams({
      decision: "allow",
      redirect_uri: consent.get("redirect_uri") ?? "",
      state: consent.get("state") ?? "",
      who: `${pipedriveUserOf(tenant)}@7001`,
    });
    const challenge = consent.get("code_challenge");
    if (challenge) form.set("code_challenge", challenge);
    const answer = await fetch(`${mockUrl}/oauth/authorize/decision`, {
      method: "POST",
      body: form,
      redirect: "manual",
    });
    return new URL(answer.headers.get("location") ?? "").searchParams.get("code") ?? "";
  };

  const mock = spawn(...tsx(path.join(ROOT, "testing", "mock-pipedrive", "main.ts")), {
    cwd: ROOT,
    stdio: "ignore",
    env: {
      ...process.env,
      MOCK_PIPEDRIVE_PORT: String(options.mockPort),
      MOCK_PIPEDRIVE_REDIRECT_URIS: redirects.join(","),
    },
  });
  children.push(mock);
  await waitFor(`${mockUrl}/__mock/requests`, mock, "mock Pipedrive");

  const appEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
    DATABASE_URL: db.url,
    AUTH_SECRET,
    APP_URL: appUrl,
    PIPEDRIVE_CLIENT_ID: CLIENT.id,
    PIPEDRIVE_CLIENT_SECRET: CLIENT.secret,
    PIPEDRIVE_OAUTH_BASE_URL: mockUrl,
    PIPEDRIVE_MOCK_HOST: `localhost:${options.mockPort}`,
    PIPEDRIVE_HTTP_TIMEOUT_MS: "2000",
    SERVICE_API_KEYS: `bench=${BENCH_SERVICE_KEY}`,
    SERVICE_CALLS_PER_MINUTE: "1000000",
    ...options.appSettings,
  };
  // Several instances of the production build on one database, as behind a load balancer. They
  // share APP_URL (the first one's): a state issued by one is claimed by another.
  const appUrls: string[] = [];
  const appLog: string[] = [];
  for (let i = 0; i < (options.instances ?? 1); i++) {
    const port = options.appPort + i;
    const server = productionServer(port, { loopback: true });
    // Node itself, not tsx's CLI, so the profile is of the server's process and not its launcher.
    const profiled = i === 0 && options.cpuProfileDir;
    const [command, args] = profiled
      ? [process.execPath, ["--cpu-prof", "--cpu-prof-dir", options.cpuProfileDir!, "--import", "tsx", ...server.args]]
      : [server.command, server.args];
    const app = spawn(command, args, {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...appEnv, ...server.env },
    });
    for (const stream of [app.stdout, app.stderr]) stream?.on("data", (chunk: Buffer) => appLog.push(chunk.toString()));
    children.push(app);
    await waitFor(`http://localhost:${port}/sign-in`, app, `app instance ${i + 1}`);
    appUrls.push(`http://localhost:${port}`);
  }

  let floorUrl: string | null = null;
  if (options.floorPort) {
    // Behind the same production server as the app, so only Auth.js and the proxy differ.
    const server = productionServer(options.floorPort, { loopback: true });
    const floor = spawn(server.command, [...server.args, FLOOR_APP], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "inherit"],
      // It renders for this tenant's admin (bench/run.ts, scenario 4).
      env: { ...appEnv, ...server.env, BENCH_FLOOR_USER: `${tenants[2]!.userId}:${tenants[2]!.tenantId}:0` },
    });
    children.push(floor);
    floorUrl = `http://localhost:${options.floorPort}`;
    await waitFor(`${floorUrl}/bench-floor`, floor, "the bench's floor app");
  }

  let baselineUrl: string | null = null;
  if (options.baselinePort) {
    const baseline = spawn(...tsx(path.join(ROOT, "bench", "baseline-server.ts")), {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...appEnv, BASELINE_PORT: String(options.baselinePort) },
    });
    children.push(baseline);
    baselineUrl = `http://localhost:${options.baselinePort}`;
    await waitFor(`${baselineUrl}/health`, baseline, "the baseline server");
  }

  const key = stateKey(AUTH_SECRET);

  return {
    db,
    pool,
    tenants,
    floorTenant: tenants[2]!,
    appUrl,
    appUrls,
    mockUrl,
    floorUrl,
    baselineUrl,
    appEnv,
    appLog,
    mock: {
      reset: () => mockControl(mockUrl, "reset", {}),
      faults: (faults: object) => mockControl(mockUrl, "faults", faults),
      config: (config: object) => mockControl(mockUrl, "config", config),
      requests: async () =>
        (await (await mockControl(mockUrl, "requests")).json()) as {
          path: string;
          grantType?: string;
          status: number;
        }[],
    },
    addTenants: (count: number) => createTenants(pool, count),
    /** `npm run worker` processes on the stack's database; resolves once each has started. */
    startWorkers: async (count: number, env: Record<string, string> = {}) => {
      const workers = Array.from({ length: count }, () =>
        spawn(...tsx(path.join(ROOT, "scripts", "worker.ts")), {
          cwd: ROOT,
          env: { ...appEnv, CRM_RUNTIME_FILE: "/nonexistent", LOG_LEVEL: "info", ...env },
          stdio: ["ignore", "pipe", "inherit"],
        }),
      );
      children.push(...workers);
      await Promise.all(
        workers.map(
          (worker) =>
            new Promise<void>((resolve, reject) => {
              let out = "";
              worker.stdout.on("data", (chunk: Buffer) => {
                out += chunk;
                if (out.includes("keeper_started")) resolve();
              });
              worker.once("exit", (code) => reject(new Error(`worker exited ${code}`)));
            }),
        ),
      );
      return {
        stop: () =>
          Promise.all(
            workers.map(
              (w) =>
                new Promise((resolve) =>
                  w.exitCode !== null ? resolve(null) : (w.once("exit", resolve), w.kill("SIGTERM")),
                ),
            ),
          ),
      };
    },
    /** Allow on the mock's consent page for this tenant's Pipedrive user: the code it redirects with. */
    allow,
    /** The Auth.js session cookie a signed-in admin of this tenant would carry. */
    sessionCookie: async (tenant: BenchTenant) =>
      `${SESSION_COOKIE}=${await encode({
        salt: SESSION_COOKIE,
        secret: AUTH_SECRET,
        token: {
          sub: tenant.userId,
          uid: tenant.userId,
          tid: tenant.tenantId,
          role: "admin",
          sv: 0,
          sat: Math.floor(Date.now() / 1000),
          name: tenant.name,
          email: `${tenant.userId}@bench.test`,
        },
      })}`,
    /**
     * A connect flow up to Pipedrive's redirect: a state issued exactly as the authorize route
     * does, and a code from the mock's consent step. Returns what the browser would send.
     */
    prepareFlow: async (tenant: BenchTenant, redirectUri = redirects[0]!) => {
      const { state, nonceHash } = issueState(key);
      await pool.query(
        `INSERT INTO pipedrive_oauth_states (nonce_hash, tenant_id, user_id, expires_at) VALUES ($1, $2, $3, now() + interval '10 minutes')`,
        [nonceHash, tenant.tenantId, tenant.userId],
      );
      return { tenant, state, code: await allow(tenant, new URLSearchParams({ redirect_uri: redirectUri, state })) };
    },
    /**
     * A connect flow as an admin's browser makes it, in one session: Connect (our authorize
     * route), then Allow on Pipedrive's consent page. Returns the cookies and query the browser
     * then sends to our callback.
     */
    startFlow: async (tenant: BenchTenant, session: string) => {
      const start = await fetch(`${appUrl}/api/integrations/pipedrive/authorize`, {
        method: "POST",
        headers: { cookie: session, origin: appUrl, "content-type": "application/x-www-form-urlencoded" },
        body: "",
        redirect: "manual",
      });
      const stateCookie = start.headers
        .getSetCookie()
        .find((cookie) => cookie.startsWith("pd_oauth_state="))
        ?.split(";")[0];
      if (start.status !== 303 || !stateCookie) throw new Error(`Connect answered ${start.status}`);
      const consent = new URL(start.headers.get("location") ?? "").searchParams;
      const state = consent.get("state") ?? "";
      return { state, code: await allow(tenant, consent), cookie: `${session}; ${stateCookie}` };
    },
    stop: async () => {
      for (const child of children.reverse()) {
        if (child.exitCode !== null) continue;
        child.kill("SIGTERM");
        await new Promise((resolve) => child.once("exit", resolve));
      }
      await pool.end();
      await db.stop();
    },
  };
}

async function createTenants(pool: pg.Pool, count: number): Promise<BenchTenant[]> {
  const { rows } = await pool.query<{ tenant_id: string; user_id: string; name: string }>(
    `WITH t AS (
       INSERT INTO tenants (id, name) SELECT gen_random_uuid(), 'Bench tenant ' || n FROM generate_series(1, $1) n RETURNING id, name
     )
     INSERT INTO users (id, tenant_id, email, password_hash, role, name)
     SELECT gen_random_uuid(), t.id, 'admin-' || t.id || '@bench.test', 'not-used', 'admin', 'Admin of ' || t.name FROM t
     RETURNING tenant_id, id AS user_id, name`,
    [count],
  );
  return rows.map((r) => ({ tenantId: r.tenant_id, userId: r.user_id, name: r.name }));
}

/** Due for real: the shared fixtures' makeDue, on the bench's database. */
export async function makeDue(stack: Pick<Stack, "pool">, tenantIds: string[]) {
  await createTestRows(stack.pool).makeDue(tenantIds);
}

/** A keeper that only scans (renews nothing itself), as a worker's schedule would, when we say. */
export async function scanOnly(stack: Pick<Stack, "db">) {
  const { startKeeper } = await import("../../lib/pipedrive/keeper/keeper.ts");
  const { pipedrive } = await import("../../lib/pipedrive/context.ts");
  return startKeeper({ databaseUrl: stack.db.url, ctx: pipedrive(), concurrency: 0, log: () => {} });
}
