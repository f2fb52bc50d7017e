import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import { createTenant } from "../../../testing/support/vitest-harness.ts";
import { sql } from "../../db.ts";
import { saveState } from "./state-store.ts";

// A Connect's first write waits for a connection like every other query: a pool busy for longer
// than Prisma's 2 s transaction wait (maxWait) once failed it with a generic error.

describe("a Connect on a busy pool", () => {
  it("saves its state once a connection is free, however long past 2 s that takes", { timeout: 30_000 }, async () => {
    const { tenantId, admin } = await createTenant();
    const held = await Promise.all(Array.from({ length: sql().options.max ?? 10 }, () => sql().connect()));
    const nonceHash = randomUUID().replace(/-/g, "").padEnd(64, "0");
    const now = new Date();
    const saving = saveState({
      nonceHash,
      tenantId,
      userId: admin.id,
      now,
      expiresAt: new Date(now.getTime() + 600_000),
      pkceVerifier: null,
      session: null,
    });
    // Every connection stays taken past Prisma's wait, then goes back.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    for (const client of held) client.release();
    await expect(saving).resolves.toBeUndefined();
    const { rows } = await sql().query(`SELECT 1 FROM pipedrive_oauth_states WHERE nonce_hash = $1`, [nonceHash]);
    expect(rows).toHaveLength(1);
  });
});
