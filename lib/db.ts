import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/prisma/client.ts";
import { env } from "./env.ts";

export type Db = InstanceType<typeof PrismaClient>;
/** The client handed to an interactive transaction's callback. */
export type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];

export function createDb(databaseUrl: string, poolSize = 10): Db {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max: poolSize }) });
}

// One client per process; dev hot reloads re-evaluate modules, globalThis survives them.
const cache = globalThis as unknown as { crmDb?: Db };

export function db(): Db {
  cache.crmDb ??= createDb(env().DATABASE_URL);
  return cache.crmDb;
}

/** Fails with a message that says which database could not be reached, and why. */
export async function checkDatabase(): Promise<void> {
  const target = new URL(env().DATABASE_URL);
  const where = `${target.hostname}:${target.port || 5432}${target.pathname}`;
  try {
    await db().$queryRaw`SELECT 1`;
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new Error(`Cannot reach the database at ${where} (DATABASE_URL): ${reason}`, { cause: error });
  }
}
