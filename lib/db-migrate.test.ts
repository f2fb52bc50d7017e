import { describe, expect, it } from "vitest";

import { assertSupportedServer } from "./db-migrate.ts";

describe("the PostgreSQL version check", () => {
  it("accepts 13 and newer", () => {
    for (const version of [130000, 150018, 180004]) expect(() => assertSupportedServer(version)).not.toThrow();
  });

  it("refuses older servers with a message naming the version found", () => {
    expect(() => assertSupportedServer(120017)).toThrow(
      "This app needs PostgreSQL 13 or newer; the server at DATABASE_URL runs 12.17.",
    );
    expect(() => assertSupportedServer(Number.NaN)).toThrow(/runs an unknown version/);
  });
});
