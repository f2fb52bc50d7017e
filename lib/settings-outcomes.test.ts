import { describe, expect, it } from "vitest";

import { allOutcomes, checkFindings, errorReasons, outcomePath, parseOutcome } from "./settings-outcomes.ts";

describe("callback outcomes", () => {
  it("round-trip through the settings page's query", () => {
    expect(allOutcomes).toHaveLength(16 + checkFindings.length + errorReasons.length);
    for (const outcome of allOutcomes) {
      const query = Object.fromEntries(new URL(outcomePath(outcome), "http://x").searchParams);
      expect(parseOutcome(query)).toEqual(outcome);
    }
  });

  it("ignore anything outside the fixed set, echoing nothing", () => {
    expect(parseOutcome({ pipedrive: "<script>" })).toBeNull();
    expect(parseOutcome({ pipedrive: "error", reason: "<img onerror>" })).toEqual({
      result: "error",
      reason: "server_error",
    });
    expect(parseOutcome({})).toBeNull();
  });
});
