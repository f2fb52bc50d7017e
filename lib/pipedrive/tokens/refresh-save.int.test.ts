import { describe, expect, it } from "vitest";
import { z } from "zod";

import {
  mockPipedriveForFile,
  staleTenant as staleTenantOf,
  testContext,
  tokenRequests,
  tokenRow,
} from "../../../testing/support/vitest-harness.ts";
import { sql } from "../../db.ts";
import { getValidAccessToken } from "./access.ts";

// Once Pipedrive has rotated a refresh token, the old one is dead: whatever fails after the
// refresh answer, the new tokens must reach the row.

// Only a rotating refresh can leave the row with a dead token, so these run with rotation on.
const pd = mockPipedriveForFile({ refreshRotation: true });

const staleTenant = () => staleTenantOf(pd);

describe("a refresh Pipedrive accepted", () => {
  it("is saved even when our own bookkeeping after it fails", async () => {
    const { tenantId } = await staleTenant();
    const before = await tokenRow(tenantId);
    const constraint = `fail_meta_${tenantId.replace(/-/g, "")}`;
    await sql().query(
      `ALTER TABLE pipedrive_connections ADD CONSTRAINT ${constraint} CHECK (tenant_id <> '${z.uuid().parse(tenantId)}'::uuid OR last_refreshed_at IS NULL) NOT VALID`,
    );
    try {
      const token = await getValidAccessToken(pd.ctx, tenantId);
      const after = await tokenRow(tenantId);
      expect(tokenRequests(pd.mock, "refresh_token").map((r) => r.status)).toEqual([200]);
      expect(after?.refreshToken).not.toBe(before?.refreshToken);
      expect(after?.accessToken).toBe(token.accessToken);
    } finally {
      await sql().query(`ALTER TABLE pipedrive_connections DROP CONSTRAINT ${constraint}`);
    }
  });

  it("is saved even when reporting our app credentials as fine fails", async () => {
    const { tenantId } = await staleTenant();
    const before = await tokenRow(tenantId);
    const ctx = testContext(pd.mock, {
      onClientCredentials: async () => Promise.reject(new Error("alerts table unavailable")),
    });
    const token = await getValidAccessToken(ctx, tenantId);
    const after = await tokenRow(tenantId);
    expect(after?.refreshToken).not.toBe(before?.refreshToken);
    expect(after?.accessToken).toBe(token.accessToken);
  });
});
