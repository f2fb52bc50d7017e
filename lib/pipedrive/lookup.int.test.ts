import { describe, expect, it } from "vitest";

import { connectThroughMock, createTenant, mockPipedriveForFile } from "../../testing/support/fixtures.ts";
import { LIMITS } from "../rate-limit-store.ts";
import { loadLookup } from "./lookup-store.ts";
import { runLookup } from "./lookup.ts";

const pd = mockPipedriveForFile();
const searches = () => pd.mock.requests().filter((r) => r.path === "/api/v2/persons/search").length;

describe("the settings page's phone lookup", () => {
  it("keeps a result for the user who ran it, in their workspace only", async () => {
    const a = await createTenant();
    const b = await createTenant();
    await connectThroughMock(pd.ctx, pd.mock, a.admin);
    const id = await runLookup(pd.ctx, a.member, "+55 11 99999-0001");
    expect(await loadLookup(a.member, id, new Date())).toMatchObject({
      phone: "+55 11 99999-0001",
      people: [{ id: 101, name: "Ana Souza" }],
      problem: null,
    });
    expect(await loadLookup(a.admin, id, new Date())).toBeNull();
    expect(await loadLookup(b.admin, id, new Date())).toBeNull();
    expect(await loadLookup(a.member, id, new Date(Date.now() + 11 * 60_000))).toBeNull();
    expect(await loadLookup(a.member, "not-a-uuid", new Date())).toBeNull();
  });

  it("is rate-limited per workspace, without calling Pipedrive past the limit", async () => {
    const busy = await createTenant();
    const other = await createTenant();
    await connectThroughMock(pd.ctx, pd.mock, busy.admin);
    await connectThroughMock(pd.ctx, pd.mock, other.admin);
    pd.mock.reset();
    // Our own limit, not Pipedrive's: both workspaces here share the mock's one company, whose
    // strict burst limit would pause them both (as it should for one real company).
    pd.mock.configure({ profile: "friendly" });
    for (let i = 0; i < LIMITS.lookup.points; i++) await runLookup(pd.ctx, busy.admin, "+55 11 99999-0001");
    const calls = searches();
    const refused = await loadLookup(busy.admin, await runLookup(pd.ctx, busy.admin, "+55 11 99999-0001"), new Date());
    expect(refused?.problem).toMatch(/^Too many lookups in this workspace right now\. Try again in \d+ seconds\.$/);
    expect(searches()).toBe(calls);
    const elsewhere = await loadLookup(
      other.admin,
      await runLookup(pd.ctx, other.admin, "+55 11 99999-0001"),
      new Date(),
    );
    expect(elsewhere).toMatchObject({ problem: null, people: [{ id: 101 }] });
  });
});
