import { describe, expect, it, vi } from "vitest";

import { isAppError } from "../../errors.ts";

vi.mock("../../db.ts", () => ({
  db: () => {
    throw new Error("no database in unit tests");
  },
}));
const { oneTermPerDigitString, phoneSearchTerms, regionLabel, searchedAs } = await import("./person-search.ts");

describe("phoneSearchTerms", () => {
  it("tries the input as typed, then the forms people store phones in, without repeats", () => {
    expect(phoneSearchTerms("(11) 99999-0001", "BR")).toEqual([
      "(11) 99999-0001",
      "+55 11 99999-0001",
      "+55 11 99999 0001",
      "+5511999990001",
      "11999990001",
      "5511999990001",
    ]);
    expect(phoneSearchTerms("+1 415 555 0103", "BR")).toEqual([
      "+1 415 555 0103",
      "+1 415 555-0103",
      "(415) 555-0103",
      "+14155550103",
      "4155550103",
      "14155550103",
    ]);
  });

  it("puts the typed form first even when it is already a standard one", () => {
    expect(phoneSearchTerms("+5511999990001", "BR")[0]).toBe("+5511999990001");
    expect(new Set(phoneSearchTerms("+5511999990001", "BR")).size).toBe(
      phoneSearchTerms("+5511999990001", "BR").length,
    );
  });

  it("keeps only the raw input when it is not a possible number", () => {
    expect(phoneSearchTerms("0001", "BR")).toEqual(["0001"]);
  });

  it.each(["", "   ", "call me", "1".repeat(41), "12", "+55 11 9999<b>", "555-CALL-NOW"])("refuses %j", (input) => {
    let error: unknown;
    try {
      phoneSearchTerms(input, "BR");
    } catch (caught) {
      error = caught;
    }
    expect(isAppError(error, "invalid_input")).toBe(true);
  });
});

describe("international prefixes and what a miss shows", () => {
  it("reads 00 as +", () => {
    expect(phoneSearchTerms("0055 11 99999 0001", "BR")[0]).toBe("+55 11 99999 0001");
    expect(phoneSearchTerms("001 415 555 0103", "BR")).toContain("+14155550103");
    expect(searchedAs("0055 11 99999 0001", "BR")).toBe("+55 11 99999 0001");
  });

  it("shows a number without a country code as read in the default region", () => {
    expect(searchedAs("415 555 0103", "BR")).toMatch(/^\+55 /);
    expect(searchedAs("415 555 0103", "US")).toBe("+1 415 555 0103");
    expect(regionLabel("BR")).toBe("Brazil (+55)");
  });

  it("keeps one term per digit string, in order, once punctuation is known not to matter", () => {
    expect(oneTermPerDigitString(phoneSearchTerms("(11) 99999-0001", "BR"))).toEqual([
      "(11) 99999-0001",
      "+55 11 99999-0001",
    ]);
  });
});
