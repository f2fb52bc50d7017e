import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { mockPipedriveForFile } from "../../../testing/support/vitest-harness.ts";
import { sql } from "../../db.ts";
import { allowedApiHost, toBareHost } from "./api-domain.ts";

// The host a stored api_domain names is worked out in TypeScript (token reads, pauses, the page)
// and in SQL (the status view, the token read's join on pauses). They must agree on every value,
// or a pause or an allowed host is seen by one and not the other.

const pd = mockPipedriveForFile();

/** SQL's answers for many values in one round trip. */
async function inSql(values: string[]): Promise<{ bare: string; allowed: string | null }[]> {
  const { rows } = await sql().query<{ bare: string; allowed: string | null }>(
    `SELECT pipedrive_bare_host(v) AS bare, pipedrive_allowed_api_host(v) AS allowed
       FROM unnest($1::text[]) WITH ORDINALITY AS t(v, n) ORDER BY n`,
    [values],
  );
  return rows;
}

function forms(mockHost: string): string[] {
  const port = mockHost.split(":")[1]!;
  const hosts = [
    "acme.pipedrive.com",
    "ACME.Pipedrive.COM",
    "acme.pipedrive.com:443",
    "acme.pipedrive.com:0443",
    "acme.pipedrive.com:8443",
    "-x.pipedrive.com",
    `${"a".repeat(63)}.pipedrive.com`,
    `${"a".repeat(64)}.pipedrive.com`,
    "acme.pipedrive.com.evil.example",
    "acme.pipedrive.com.",
    "%61cme.pipedrive.com",
    "acmé.pipedrive.com",
    "ACMÉ.pipedrive.com",
    "evil.example",
    "user:pw@acme.pipedrive.com",
    mockHost,
    mockHost.toUpperCase(),
    `127.0.0.1:${port}`,
    `[::1]:${port}`,
    `localhost:0${port}`,
    "localhost:9",
  ];
  const schemes = ["", "https://", "http://", "HTTPS://", "Https://", "ftp://", " https://"];
  const tails = ["", "/", "//", "/api", "?x=1", "#f", " ", "\t"];
  return schemes.flatMap((scheme) => hosts.flatMap((host) => tails.map((tail) => `${scheme}${host}${tail}`)));
}

describe("one bare host, in TypeScript and in SQL", () => {
  it("agree on every form a stored api_domain has been seen or imagined in", async () => {
    const policy = { mockHost: pd.mock.host };
    const values = forms(pd.mock.host);
    const sqlSays = await inSql(values);
    const disagreements = values.flatMap((value, i) => {
      const ts = { bare: toBareHost(value), allowed: allowedApiHost(value, policy) };
      return ts.bare === sqlSays[i]!.bare && ts.allowed === sqlSays[i]!.allowed ? [] : [{ value, ts, sql: sqlSays[i] }];
    });
    expect(values.length).toBeGreaterThan(1000);
    expect(disagreements).toEqual([]);
  });

  it("agree on random text", async () => {
    const policy = { mockHost: pd.mock.host };
    const samples = fc
      .sample(
        fc.oneof(
          fc.string({ maxLength: 40 }),
          fc.stringMatching(/^[A-Za-z:/.\-0-9]{0,30}$/),
          fc
            .constantFrom(...forms(pd.mock.host))
            .chain((base) =>
              fc
                .tuple(fc.nat(base.length), fc.string({ maxLength: 3 }))
                .map(([at, s]) => base.slice(0, at) + s + base.slice(at)),
            ),
        ),
        { numRuns: 2000, seed: 20261206 },
      )
      .filter((value) => !value.includes("\u0000"));
    const sqlSays = await inSql(samples);
    const disagreements = samples.flatMap((value, i) => {
      const ts = { bare: toBareHost(value), allowed: allowedApiHost(value, policy) };
      return ts.bare === sqlSays[i]!.bare && ts.allowed === sqlSays[i]!.allowed ? [] : [{ value, ts, sql: sqlSays[i] }];
    });
    expect(disagreements.slice(0, 5)).toEqual([]);
  });
});
