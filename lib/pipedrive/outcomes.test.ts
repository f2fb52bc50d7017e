import { describe, expect, it } from "vitest";
import { bannerFor, errorReasons, type Outcome, outcomePath, parseOutcome } from "./outcomes.ts";

describe("callback outcomes", () => {
  it("round-trip through the settings page's query", () => {
    const outcomes: Outcome[] = [
      { result: "connected" },
      { result: "denied" },
      { result: "disconnected", revokeFailed: false },
      { result: "disconnected", revokeFailed: true },
      { result: "nothing_to_disconnect" },
      ...errorReasons.map((reason): Outcome => ({ result: "error", reason })),
    ];
    for (const outcome of outcomes) {
      const query = Object.fromEntries(new URL(outcomePath(outcome), "http://x").searchParams);
      expect(parseOutcome(query)).toEqual(outcome);
      expect(bannerFor(outcome).title.length).toBeGreaterThan(0);
    }
  });

  it("ignore anything outside the fixed set, echoing nothing", () => {
    expect(parseOutcome({ pipedrive: "<script>" })).toBeNull();
    expect(parseOutcome({ pipedrive: "error", reason: "<img onerror>" })).toEqual({ result: "error", reason: "server_error" });
    expect(parseOutcome({})).toBeNull();
  });
});
