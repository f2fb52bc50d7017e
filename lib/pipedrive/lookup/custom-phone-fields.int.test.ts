import { afterEach, describe, expect, it } from "vitest";

import { connectedTenant, mockPipedriveForFile } from "../../../testing/support/vitest-harness.ts";
import { sql } from "../../db.ts";
import { API_TOKEN_COSTS } from "../client/api-costs.ts";
import { searchPersonsByPhone } from "./person-search.ts";
import { usageToday, usageWritten } from "./usage-store.ts";

// Pipedrive's person search finds numbers kept in a company's custom phone fields only when
// asked with fields=custom_fields. Which companies have one is asked once a day (personFields),
// and again after a miss once a "no" is five minutes old, and priced in the budget table.

const pd = mockPipedriveForFile();
const host = () => new URL(pd.mock.url).host;
const calls = (path: string) => pd.mock.requests().filter((r) => r.path === path);

afterEach(async () => {
  pd.mock.configure({ customPhoneField: false });
  await sql().query(`DELETE FROM pipedrive_companies WHERE api_host = $1`, [host()]);
});

describe("numbers in a custom phone field", () => {
  it("are found where the company has such a field; the fields are asked once, and priced", async () => {
    const t = await connectedTenant(pd);
    pd.mock.configure({ customPhoneField: true });
    const before = await usageToday(host(), new Date());
    const people = await searchPersonsByPhone(pd.ctx, t.tenantId, "+55 11 97777-0004");
    expect(people.map((p) => p.name)).toEqual(["Dora Campo"]);
    // The number it matched, labelled with the field it is kept in.
    expect(people[0]!.customPhones).toEqual([{ field: "Work mobile", phone: "+55 11 97777-0004" }]);
    expect(calls("/api/v2/persons/search").map((r) => r.fields)).toContain("phone,custom_fields");
    await searchPersonsByPhone(pd.ctx, t.tenantId, "+55 11 99999-0001");
    expect(calls("/api/v1/personFields")).toHaveLength(1);
    await usageWritten();
    const after = await usageToday(host(), new Date());
    expect(after.apiTokens - before.apiTokens).toBeGreaterThanOrEqual(
      API_TOKEN_COSTS.personFields + 2 * API_TOKEN_COSTS.personSearch,
    );
  });

  it("are not asked for where the company has none: the search names the phone field only", async () => {
    const t = await connectedTenant(pd);
    expect(await searchPersonsByPhone(pd.ctx, t.tenantId, "+55 11 97777-0004")).toEqual([]);
    expect(calls("/api/v1/personFields")).toHaveLength(1);
    const fields = calls("/api/v2/persons/search").map((r) => r.fields);
    expect(new Set(fields)).toEqual(new Set(["phone"]));
  });

  it("are noticed within minutes of a miss when the company adds such a field, not a day later", async () => {
    const t = await connectedTenant(pd);
    // One search per lookup (a company whose search matches digits), under the strict profile's
    // search limit of 10 per 2 s however many lookups this test makes.
    await sql().query(
      `INSERT INTO pipedrive_companies (api_host, phone_match, learned_at) VALUES ($1, 'digits', now())`,
      [host()],
    );
    expect(await searchPersonsByPhone(pd.ctx, t.tenantId, "+55 11 97777-0004")).toEqual([]);
    pd.mock.configure({ customPhoneField: true });
    // Right after the first ask, a miss does not ask again: the answer is minutes old.
    expect(await searchPersonsByPhone(pd.ctx, t.tenantId, "+55 11 97777-0004")).toEqual([]);
    expect(calls("/api/v1/personFields")).toHaveLength(1);
    // Five minutes on, a miss asks once more, and finds the number in the new field.
    await sql().query(
      `UPDATE pipedrive_companies SET fields_checked_at = fields_checked_at - interval '6 minutes' WHERE api_host = $1`,
      [host()],
    );
    const people = await searchPersonsByPhone(pd.ctx, t.tenantId, "+55 11 97777-0004");
    expect(people.map((p) => p.name)).toEqual(["Dora Campo"]);
    expect(calls("/api/v1/personFields")).toHaveLength(2);
    // A hit does not ask: only a miss can mean a field we do not search.
    await sql().query(
      `UPDATE pipedrive_companies SET fields_checked_at = fields_checked_at - interval '6 minutes' WHERE api_host = $1`,
      [host()],
    );
    await searchPersonsByPhone(pd.ctx, t.tenantId, "+55 11 99999-0001");
    expect(calls("/api/v1/personFields")).toHaveLength(2);
  });
});
