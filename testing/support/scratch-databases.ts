import { afterAll, inject } from "vitest";

import { closeDb } from "../../lib/db.ts";
import { env } from "../../lib/env.ts";
import { createScratchDatabase, prepareForTests } from "./test-database.ts";

/** For a test file: scratch databases on the run's server, all dropped after the file, pass or fail. */
export function scratchDatabases(serverUrl: string) {
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    await Promise.all(drops.splice(0).map((drop) => drop()));
  });
  return async (prefix: string) => {
    const scratch = await createScratchDatabase(serverUrl, prefix);
    drops.push(scratch.drop);
    return scratch.url;
  };
}

/**
 * Points the test file's process at a migrated database of its own, for state that is global by
 * nature: an operator alert shows every workspace as unavailable, and a delivery of mail takes
 * every workspace's, so on the run's shared database they change what files running beside this
 * one see, or are changed by them. Await it at the file's top level, before anything connects.
 */
export async function ownDatabaseForFile(
  prefix: string,
  /** Settings this file's process runs with beside the database (a short pool wait, say). */
  settings: Record<string, string> = {},
): Promise<string> {
  const fresh = scratchDatabases(inject("databaseUrl"));
  afterAll(closeDb);
  const url = await fresh(prefix);
  await prepareForTests(url);
  Object.assign(process.env, settings);
  process.env.DATABASE_URL = url;
  // Read once already, the environment would keep pointing at the shared database.
  if (env().DATABASE_URL !== url) throw new Error("ownDatabaseForFile must run before anything reads the environment");
  return url;
}
