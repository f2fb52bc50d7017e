import "server-only";

import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";

import { CALLBACKS_AT_ONCE } from "./callback-slots.ts";
import { DEFAULTS, env } from "./env.ts";
import { PrismaClient } from "./generated/prisma/client.ts";
import { log } from "./log.ts";
import { flushAllWrites } from "./write-behind.ts";

export type Db = InstanceType<typeof PrismaClient>;
/** The client handed to an interactive transaction's callback. */
export type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];

type Handles = { prisma: Db; pool: pg.Pool; refreshPool: pg.Pool; grantPool: pg.Pool };

/** Connections that may wait on Pipedrive: at most this many refreshes run at once per process. */
export const REFRESH_POOL_SIZE = 4;

/** How long a request waits for a connection, and a statement may run: set on purpose (docs/operations.md). */
export type PoolLimits = { waitMs: number; statementTimeoutMs: number };
const DEFAULT_LIMITS: PoolLimits = {
  waitMs: DEFAULTS.DB_POOL_WAIT_MS,
  statementTimeoutMs: DEFAULTS.DB_STATEMENT_TIMEOUT_MS,
};

function newPool(databaseUrl: string, max: number, waitMs: number, statementTimeoutMs: number): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    connectionTimeoutMillis: waitMs,
    statement_timeout: statementTimeoutMs,
  });
  // An idle connection dropped by the server (restart, failover) must not crash the process;
  // the pool replaces it on the next query.
  pool.on("error", (error) => log().warn({ error: error.message }, "idle database connection lost"));
  return pool;
}

function connect(databaseUrl: string, poolSize: number, limits: PoolLimits = DEFAULT_LIMITS): Handles {
  const { waitMs, statementTimeoutMs } = limits;
  // A request waits for a connection at most waitMs, then fails as busy (errors.ts isBusy): a
  // 503 with Retry-After, never a queue that grows until every caller times out.
  const pool = newPool(databaseUrl, poolSize, waitMs, statementTimeoutMs);
  // Refresh transactions hold their row lock across a call to Pipedrive. They get a pool of
  // their own, so a slow token endpoint queues refreshes here and never starves sign-in,
  // pages or token reads of connections.
  // Its callers already share one refresh per workspace in a process, so few wait here; they may
  // wait longer, as a refresh holds its connection across a call to Pipedrive.
  const refreshPool = newPool(databaseUrl, REFRESH_POOL_SIZE, 3 * waitMs, 2 * statementTimeoutMs);
  // Once Pipedrive has exchanged a callback's code, the code is spent: its save must not queue
  // behind pages and lookups, whose waits for a connection are retried at the back of the line.
  // A connection of its own for each callback a process takes on at once keeps it out of that crowd.
  const grantPool = newPool(databaseUrl, CALLBACKS_AT_ONCE, 3 * waitMs, statementTimeoutMs);
  return {
    pool,
    refreshPool,
    grantPool,
    prisma: new PrismaClient({
      adapter: new PrismaPg(pool),
      // Prisma's own wait for a transaction's connection (2 s by default) matches the pool's.
      transactionOptions: { maxWait: waitMs, timeout: statementTimeoutMs },
    }),
  };
}

/** A client of its own, for one-shot scripts; close() ends its connections too. */
export function createDb(databaseUrl: string, poolSize = 10): { db: Db; close: () => Promise<void> } {
  const handles = connect(databaseUrl, poolSize);
  return { db: handles.prisma, close: () => disconnect(handles) };
}

async function disconnect({ prisma, pool, refreshPool, grantPool }: Handles): Promise<void> {
  await prisma.$disconnect();
  await Promise.all([pool.end(), refreshPool.end(), grantPool.end()]);
}

// One client per process; dev hot reloads re-evaluate modules, globalThis survives them.
const cache = globalThis as unknown as { crmDb?: Handles };

function handles(): Handles {
  const e = env();
  cache.crmDb ??= connect(e.DATABASE_URL, e.DB_POOL_SIZE, {
    waitMs: e.DB_POOL_WAIT_MS,
    statementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
  });
  return cache.crmDb;
}

export function db(): Db {
  return handles().prisma;
}

/**
 * The same connections, without Prisma, for the two reads every request makes (the session's
 * user, the tenant's token): there Prisma's per-query overhead halved throughput against a
 * plain SELECT (npm run bench, scenario 2). Everything else goes through db().
 */
export function sql(): pg.Pool {
  return handles().pool;
}

/** The pool for transactions that wait on Pipedrive while holding a row lock. */
export function refreshSql(): pg.Pool {
  return handles().refreshPool;
}

/** The pool for saving an exchanged code's grant: nothing else waits in its line. */
export function grantSql(): pg.Pool {
  return handles().grantPool;
}

/** Runs `work` in a transaction on one of the refresh connections. */
export function inRefreshTransaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return inTransaction(refreshSql(), work);
}

/** Runs `work` in a transaction on one connection of `pool`: committed if it returns, rolled back if it throws. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

export async function closeDb(): Promise<void> {
  if (!cache.crmDb) return;
  await flushAllWrites();
  const handles = cache.crmDb;
  cache.crmDb = undefined;
  await disconnect(handles);
}

/** Fails with a message that says which database could not be reached, and why. */
export async function checkDatabase(): Promise<void> {
  const target = new URL(env().DATABASE_URL);
  const where = `${target.hostname}:${target.port || 5432}${target.pathname}`;
  try {
    await sql().query("SELECT 1");
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new Error(`Cannot reach the database at ${where} (DATABASE_URL): ${reason}`, { cause: error });
  }
}
