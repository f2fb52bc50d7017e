import { describe, expect, it } from "vitest";

import { type ErrorShape } from "../../../testing/mock-pipedrive/index.ts";
import {
  connectionRow,
  mockPipedriveForFile,
  staleTenant as staleTenantOf,
  testContext,
  tokenRequests,
  tokenRow,
} from "../../../testing/support/vitest-harness.ts";
import { isAppError } from "../../errors.ts";
import { searchPersonsByPhone } from "../lookup/person-search.ts";
import { getValidAccessToken } from "../tokens/access.ts";

// Every variant Pipedrive documents, whichever profile the file runs under.

const pd = mockPipedriveForFile();
const SHAPES: ErrorShape[] = ["oauth-json", "api-json", "text"];

const staleTenant = () => staleTenantOf(pd);

describe("a refresh answer without api_domain", () => {
  it("keeps the stored host", async () => {
    const { tenantId } = await staleTenant();
    pd.mock.configure({ profile: "strict" });
    const before = await tokenRow(tenantId);
    const token = await getValidAccessToken(pd.ctx, tenantId);
    const after = await tokenRow(tenantId);
    expect(after?.accessToken).not.toBe(before?.accessToken);
    expect(after?.apiDomain).toBe(before?.apiDomain);
    expect(token.apiHost).toBe(pd.mock.host);
  });
});

describe.each(SHAPES)("token errors shaped as %s", (shape) => {
  it("recognises a dead refresh token and marks needs_reconnect", async () => {
    const { tenantId } = await staleTenant();
    pd.mock.configure({ errorShape: shape });
    pd.mock.setFaults({ token: { mode: "invalid_grant" } });
    expect(isAppError(await getValidAccessToken(pd.ctx, tenantId).catch((e: unknown) => e), "needs_reconnect")).toBe(
      true,
    );
    expect(await connectionRow(tenantId)).toMatchObject({ status: "needs_reconnect" });
  });

  it("tells our own rejected credentials apart, and never marks the tenant", async () => {
    const { tenantId } = await staleTenant();
    pd.mock.configure({ errorShape: shape });
    const rotatedSecret = testContext(pd.mock, { clientSecret: "rotated-on-pipedrive's-side" });
    const failure = await getValidAccessToken(rotatedSecret, tenantId).catch((e: unknown) => e);
    expect(isAppError(failure, "app_credentials_rejected")).toBe(true);
    expect(tokenRequests(pd.mock).map((r) => r.status)).toEqual([401]);
    expect(await connectionRow(tenantId)).toMatchObject({ status: "connected", rejectedRefreshTokenHash: null });
  });
});

describe("rate limits", () => {
  it("fails at once with rate_limited, and when it lifts, when the company's daily budget is spent", async () => {
    const { tenantId } = await staleTenant();
    await getValidAccessToken(pd.ctx, tenantId);
    pd.mock.reset();
    pd.mock.configure({ profile: "strict", dailyBudget: 0 });
    const waits: number[] = [];
    const ctx = testContext(pd.mock, { sleep: async (ms) => void waits.push(ms) });
    const failure = await searchPersonsByPhone(ctx, tenantId, "+55 11 99999-0001").catch((e: unknown) => e);
    expect(isAppError(failure, "rate_limited")).toBe(true);
    // The mock's budget resets at midnight UTC, capped at the hour Pipedrive documents.
    const retryAt = isAppError(failure) ? failure.retryAt : null;
    expect(retryAt!.getTime()).toBeGreaterThan(Date.now());
    expect(retryAt!.getTime()).toBeLessThanOrEqual(Date.now() + 3600_000);
    expect(isAppError(failure) && failure.userMessage).toMatch(
      /^Pipedrive's request limit for this company is used up\. Lookups resume at \d\d:\d\d UTC\. .*API usage page/,
    );
    expect(
      pd.mock
        .requests()
        .filter((r) => r.path === "/api/v2/persons/search")
        .map((r) => r.status),
    ).toEqual([429]);
    expect(waits).toEqual([]);
  });
});
