import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/prisma/client.ts";
import { env } from "./env.ts";

export type Db = InstanceType<typeof PrismaClient>;
/** The client handed to an interactive transaction's callback. */
export type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];

type Handles = { prisma: Db; pool: pg.Pool };

function connect(databaseUrl: string, poolSize: number): Handles {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize });
  // An idle connection dropped by the server (restart, failover) must not crash the process;
  // the pool replaces it on the next query.
  pool.on("error", (error) => console.error(`[db] idle connection lost: ${error.message}`));
  return { pool, prisma: new PrismaClient({ adapter: new PrismaPg(pool) }) };
}

/** A client of its own, for one-shot scripts; close() ends its connections too. */
export function createDb(databaseUrl: string, poolSize = 10): { db: Db; close: () => Promise<void> } {
  const { prisma, pool } = connect(databaseUrl, poolSize);
  return { db: prisma, close: () => prisma.$disconnect().then(() => pool.end()) };
}

// One client per process; dev hot reloads re-evaluate modules, globalThis survives them.
const cache = globalThis as unknown as { crmDb?: Handles };

function handles(): Handles {
  cache.crmDb ??= connect(env().DATABASE_URL, 10);
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

export async function closeDb(): Promise<void> {
  if (!cache.crmDb) return;
  const { prisma, pool } = cache.crmDb;
  cache.crmDb = undefined;
  await prisma.$disconnect();
  await pool.end();
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
