import { afterEach, describe, expect, it } from "vitest";

import {
  connectedTenant,
  connectionRow,
  connectThroughMock,
  createTenant,
  expireAccessToken,
  mockPipedriveForFile,
  testContext,
  tokenRow,
} from "../../../testing/support/vitest-harness.ts";
import { isAppError } from "../../errors.ts";
import { loadLookup } from "../lookup/lookup-store.ts";
import { runLookup } from "../lookup/lookup.ts";
import { getValidAccessToken } from "../tokens/access.ts";

// An answer whose headers came in time and whose body did not: the call's timeout ends it
// halfway through the body. That is Pipedrive not answering in time, as much as a timeout
// before the headers is, and is told as such: on a loaded machine it is the common case,
// since the headers and the body are read in separate turns of the event loop.

const pd = mockPipedriveForFile();
const hasty = () => testContext(pd.mock, { timeoutMs: 300 });

afterEach(() => pd.mock.setFaults({}));

describe("an answer that stops halfway through its body", () => {
  it("from the code's exchange is a timeout: the admin is told Pipedrive was slow, nothing is saved", async () => {
    const { tenantId, admin } = await createTenant();
    pd.mock.setFaults({ stalledAnswer: "token" });
    const result = await connectThroughMock(hasty(), pd.mock, admin);
    expect(result.outcome).toEqual({ result: "error", reason: "exchange_timeout" });
    expect(result.detail).toMatch(/token exchange: no whole answer within the timeout/);
    expect(await tokenRow(tenantId)).toBeNull();
  }, 30_000);

  it("from a refresh is Pipedrive unavailable, tried again, and never a reason to reconnect", async () => {
    const { tenantId } = await connectedTenant(pd);
    await expireAccessToken(tenantId);
    const before = await tokenRow(tenantId);
    pd.mock.setFaults({ stalledAnswer: "token" });
    const failure = await getValidAccessToken(hasty(), tenantId).catch((error: unknown) => error);
    expect(isAppError(failure, "pipedrive_unavailable")).toBe(true);
    expect(String((failure as Error).message)).toMatch(/refresh failed 3 times/);
    expect((await connectionRow(tenantId))?.status).toBe("connected");
    expect((await tokenRow(tenantId))?.refreshToken).toBe(before?.refreshToken);
  }, 30_000);

  it("from a person search is Pipedrive not answering, in the lookup's words", async () => {
    const t = await connectedTenant(pd);
    pd.mock.setFaults({ stalledAnswer: "search" });
    const ran = await runLookup(hasty(), t.member, "+55 11 99999-0001");
    if (!("id" in ran)) throw new Error("refused");
    const problem = (await loadLookup(t.member, ran.id, new Date()))?.problem;
    expect(problem).toMatch(/Pipedrive did not answer/);
  }, 30_000);
});

describe("the report that Pipedrive accepted our credentials", () => {
  it("is made once the answer is read: a slow one (a busy pool) never cuts off the tokens it reports on", async () => {
    const { tenantId, admin } = await createTenant();
    const slowReport = testContext(pd.mock, {
      timeoutMs: 300,
      onClientCredentials: () => new Promise((resolve) => setTimeout(resolve, 600)),
    });
    const result = await connectThroughMock(slowReport, pd.mock, admin);
    expect(result.outcome).toEqual({ result: "connected" });
    expect(await tokenRow(tenantId)).not.toBeNull();
  }, 30_000);
});
