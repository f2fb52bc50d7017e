import { describe, expect, it } from "vitest";

import { rateLimitedUntil } from "./errors.ts";

describe("a company's paused lookups", () => {
  const now = new Date("2026-12-06T10:00:00Z");

  it("say the time a pause ends the same day", () => {
    expect(rateLimitedUntil(new Date("2026-12-06T11:30:00Z"), "x", now).userMessage).toContain(
      "Lookups resume at 11:30 UTC.",
    );
  });

  it("say the date too when a pause ends on another day", () => {
    expect(rateLimitedUntil(new Date("2026-12-07T09:59:00Z"), "x", now).userMessage).toContain(
      "Lookups resume at 09:59 UTC on 7 Dec 2026.",
    );
  });
});
