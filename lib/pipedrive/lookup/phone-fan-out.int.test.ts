import { describe, expect, it } from "vitest";

import {
  connectedTenant,
  MOCK_PROFILE,
  mockPipedriveForFile,
  testContext,
} from "../../../testing/support/vitest-harness.ts";
import { sql } from "../../db.ts";
import { API_TOKEN_COSTS } from "../client/api-costs.ts";
import { sleep } from "../client/http.ts";
import { phoneSearchTerms, searchPersonsByPhone } from "./person-search.ts";
import { usageToday } from "./usage-store.ts";

// What a lookup costs the company's Pipedrive budget. Pipedrive does not document whether its
// exact phone match ignores punctuation; the mock's friendly profile does, the strict one
// matches the stored text. Under both, every person is found; where the company's search has
// shown that punctuation does not matter, a miss costs one search per digit string.

const pd = mockPipedriveForFile();

/** Many searches in a row: real waits, so Pipedrive's search burst limit is respected, not hit. */
const patient = () => testContext(pd.mock, { sleep });
async function unhurried() {
  await sql().query(`DELETE FROM pipedrive_rate_limits WHERE api_host = $1`, [new URL(pd.mock.url).host]);
}
const searches = () => pd.mock.requests().filter((r) => r.path === "/api/v2/persons/search").length;

async function searchesFor(tenantId: string, phone: string) {
  const before = searches();
  const people = await searchPersonsByPhone(patient(), tenantId, phone);
  return { people, searches: searches() - before };
}

describe("the phone fan-out", () => {
  it(
    "finds a person stored with other punctuation, and then cuts what a miss costs where it can",
    { timeout: 60_000 },
    async () => {
      const t = await connectedTenant(pd);
      await unhurried();
      // This mock's company only: other files' companies share the database and run beside this one.
      await sql().query(`DELETE FROM pipedrive_companies WHERE api_host = $1`, [new URL(pd.mock.url).host]);
      const miss = "+55 21 4000-0000";
      const fullFanOut = phoneSearchTerms(miss, "BR").length;

      const firstMiss = await searchesFor(t.tenantId, miss);
      expect(firstMiss).toEqual({ people: [], searches: fullFanOut });

      // Ana is stored as "+55 11 99999-0001"; the E.164 form differs in punctuation only.
      const hit = await searchesFor(t.tenantId, "+5511999990001");
      expect(hit.people.map((p) => p.name)).toEqual(["Ana Souza"]);

      const laterMiss = await searchesFor(t.tenantId, miss);
      console.info(
        `[fan-out, ${MOCK_PROFILE}] hit: ${hit.searches} searches; miss: ${firstMiss.searches} before, ${laterMiss.searches} after the hit`,
      );
      if (MOCK_PROFILE === "friendly") {
        // Seen to ignore punctuation: one search per digit string (with and without the country code).
        expect(hit.searches).toBe(1);
        expect(laterMiss.searches).toBe(2);
      } else {
        // Literal matching: every form people type still has to be tried.
        expect(hit.searches).toBe(2);
        expect(laterMiss.searches).toBe(fullFanOut);
      }
    },
  );

  it("is counted against the company's budget at the documented cost", async () => {
    const t = await connectedTenant(pd);
    await unhurried();
    const host = new URL(pd.mock.url).host;
    const before = await usageToday(host, new Date());
    const { searches: made } = await searchesFor(t.tenantId, "+55 11 99999-0001");
    // Written without waiting; read until it lands.
    await expect
      .poll(async () => (await usageToday(host, new Date())).searches, { timeout: 20_000 })
      .toBeGreaterThanOrEqual(before.searches + made);
    const after = await usageToday(host, new Date());
    expect(after.lookups).toBeGreaterThanOrEqual(before.lookups + 1);
    expect(after.searches).toBeGreaterThanOrEqual(before.searches + made);
    expect(after.apiTokens - before.apiTokens).toBeGreaterThanOrEqual(made * API_TOKEN_COSTS.personSearch);
  });
});
