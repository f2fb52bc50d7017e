import { describe, expect, it } from "vitest";

import {
  connectedTenant,
  connectThroughMock,
  createTenant,
  mockPipedriveForFile,
  testContext,
  tokenRow,
} from "../../../testing/support/vitest-harness.ts";
import { personSearchAnswer, usersMeAnswer } from "../client/schemas.ts";
import { loadLookup, MAX_KEPT_MATCHES } from "./lookup-store.ts";
import { runLookup } from "./lookup.ts";

// Every answer from Pipedrive is read as a stream, up to a size that fits its endpoint. The mock
// here answers with a body that never ends: without a cap, the read would only stop at the
// timeout (set far beyond the test's own here), holding ever more memory.

const pd = mockPipedriveForFile();
const patient = () => testContext(pd.mock, { timeoutMs: 60_000 });

describe("an answer larger than its endpoint ever sends is refused, not read whole", () => {
  it("from the token endpoint", async () => {
    const { tenantId, admin } = await createTenant();
    pd.mock.setFaults({ endlessAnswer: "token" });
    const result = await connectThroughMock(patient(), pd.mock, admin);
    expect(result.outcome).toEqual({ result: "error", reason: "exchange_failed" });
    expect(result.detail).toMatch(/longer than the 16384 bytes expected/);
    expect(await tokenRow(tenantId)).toBeNull();
  });

  it("from users/me", async () => {
    const { admin } = await createTenant();
    pd.mock.setFaults({ endlessAnswer: "me" });
    const result = await connectThroughMock(patient(), pd.mock, admin);
    expect(result.outcome).toEqual({ result: "error", reason: "profile_failed" });
  });

  it("from a person search", async () => {
    const t = await connectedTenant(pd);
    pd.mock.setFaults({ endlessAnswer: "search" });
    const ran = await runLookup(patient(), t.member, "+55 11 99999-0001");
    if (!("id" in ran)) throw new Error("refused");
    expect((await loadLookup(t.member, ran.id, new Date()))?.problem).toBeTruthy();
  });
});

describe("long values", () => {
  it("are kept shortened", () => {
    const me = usersMeAnswer.parse({
      success: true,
      data: { id: 1, name: "n", email: "e", company_id: 2, company_name: "A".repeat(200_000), company_domain: "d" },
    });
    expect(me.data.company_name).toHaveLength(200);
    expect(me.data.company_name.endsWith("…")).toBe(true);
    const search = personSearchAnswer.parse({
      success: true,
      data: { items: [{ item: { id: 1, name: "x", phones: Array(100).fill("1".repeat(500)), emails: [] } }] },
    });
    expect(search.data.items[0]!.item.phones).toHaveLength(20);
    expect(search.data.items[0]!.item.phones[0]).toHaveLength(100);
  });

  it("a lookup keeps the first matches and how many there were", async () => {
    const t = await connectedTenant(pd);
    const many = Array.from({ length: 600 }, (_, i) => ({
      id: 10_000 + i,
      name: `Person ${i}`,
      phones: ["+55 11 90000-0000"],
      emails: [],
      organization: null,
    }));
    pd.mock.setPersons(many);
    const ran = await runLookup(pd.ctx, t.member, "+55 11 90000-0000");
    if (!("id" in ran)) throw new Error("refused");
    const shown = await loadLookup(t.member, ran.id, new Date());
    expect(shown?.people).toHaveLength(MAX_KEPT_MATCHES);
    expect(shown?.total).toBe(600);
  });
});
