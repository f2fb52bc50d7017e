import { describe, expect, it, vi } from "vitest";
import { isAppError } from "../errors.ts";

vi.mock("../db.ts", () => ({ db: () => { throw new Error("no database in unit tests"); } }));
const { phoneSearchTerms } = await import("./person-search.ts");

describe("phoneSearchTerms", () => {
  it("tries the E.164 form first, then the input as typed", () => {
    expect(phoneSearchTerms("(11) 99999-0001", "BR")).toEqual(["+5511999990001", "(11) 99999-0001"]);
    expect(phoneSearchTerms("+1 415 555 0103", "BR")).toEqual(["+14155550103", "+1 415 555 0103"]);
  });

  it("does not repeat a term", () => {
    expect(phoneSearchTerms("+5511999990001", "BR")).toEqual(["+5511999990001"]);
  });

  it("keeps the raw input when it is not a possible number", () => {
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
