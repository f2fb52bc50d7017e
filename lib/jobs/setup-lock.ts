import pg from "pg";

// Any 64-bit key of our own; pg-boss and Prisma's migrate use others.
const SETUP_LOCK = 7_207_001;

/**
 * pg-boss's create_queue deadlocks when two processes create the same queue at once (workers
 * of one deploy starting together on a fresh database): setup runs under an advisory lock, on a
 * connection of its own.
 */
export async function oneAtATime(databaseUrl: string, work: () => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [SETUP_LOCK]);
    await work();
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [SETUP_LOCK]).catch(() => {});
    await client.end();
  }
}
