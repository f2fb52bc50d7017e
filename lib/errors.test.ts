import { describe, expect, it } from "vitest";

import { isBusy, rateLimitedUntil, toAppError } from "./errors.ts";

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

describe("a database too busy for the work", () => {
  const wrapped = (cause: unknown) => Object.assign(new Error("query failed"), { cause });

  it("is told apart from a failure, through the causes Prisma's adapter wraps", () => {
    const busy = [
      new Error("timeout exceeded when trying to connect"),
      Object.assign(new Error("canceling statement due to statement timeout"), { code: "57014" }),
      Object.assign(new Error("sorry, too many clients already"), { code: "53300" }),
      Object.assign(new Error("Transaction API error"), { code: "P2028" }),
      wrapped(wrapped(new Error("timeout exceeded when trying to connect"))),
      // Prisma 7's error for a query its adapter saw fail: the driver's code only in meta.
      Object.assign(new Error("Invalid `prisma.pipedriveConnection.findMany()` invocation: Database error"), {
        code: "P2039",
        meta: {
          driverAdapterError: Object.assign(new Error("canceling statement due to statement timeout"), {
            cause: { kind: "postgres", originalCode: "57014" },
          }),
        },
      }),
    ];
    for (const error of busy) {
      expect(isBusy(error), String(error)).toBe(true);
      const told = toAppError(error);
      expect(told.code).toBe("busy");
      expect(told.retryAt!.getTime()).toBeGreaterThan(Date.now());
      expect(told.userMessage).toMatch(/busy.*Nothing was changed/);
    }
    for (const error of [
      new Error("relation does not exist"),
      Object.assign(new Error("duplicate key"), { code: "23505" }),
      "timeout exceeded when trying to connect",
      null,
    ])
      expect(isBusy(error), String(error)).toBe(false);
    expect(toAppError(new Error("boom")).code).toBe("internal");
  });
});
