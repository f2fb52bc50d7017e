import { afterAll } from "vitest";

import { createScratchDatabase } from "./test-database.ts";

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
