import { describe, expect, inject, it } from "vitest";

import { scratchDatabases } from "../../../testing/support/scratch-databases.ts";
import { mockPipedriveForFile, testContext } from "../../../testing/support/vitest-harness.ts";
import { migrate } from "../../db-migrate.ts";
import { startKeeper, type Keeper } from "./keeper.ts";

// Workers of a deploy start together, on a database no keeper has used yet.

const pd = mockPipedriveForFile();
const freshDatabase = scratchDatabases(inject("databaseUrl"));

describe("keeper workers starting at the same moment on a fresh database", () => {
  it("all start, none deadlocks setting up the queues", async () => {
    const url = await freshDatabase("crm_keeper_start");
    await migrate(url);
    const started = await Promise.allSettled(
      Array.from({ length: 4 }, () =>
        startKeeper({ databaseUrl: url, ctx: testContext(pd.mock), concurrency: 0, log: () => {} }),
      ),
    );
    const keepers = started
      .filter((s): s is PromiseFulfilledResult<Keeper> => s.status === "fulfilled")
      .map((s) => s.value);
    await Promise.all(keepers.map((k) => k.stop()));
    expect(
      started.filter((s) => s.status === "rejected").map((s) => String((s as PromiseRejectedResult).reason)),
    ).toEqual([]);
  }, 60_000);
});
