import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { ROUTES } from "../routes.ts";

const { safeReturnTo } = await import("./session.ts");

describe("safeReturnTo", () => {
  it("keeps a same-site path and its query", () => {
    expect(safeReturnTo("/settings/integrations?pipedrive=connected")).toBe(
      "/settings/integrations?pipedrive=connected",
    );
  });

  it.each([
    "https://evil.example",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "/\t/evil.example",
    "http:/evil.example",
    "/.//evil.example",
    "/./\\evil.example",
    "/a/..//evil.example",
    "/%2e//evil.example",
    "",
    undefined,
    ["/a", "/b"],
  ])("sends %j home instead of off-site", (value) => {
    expect(safeReturnTo(value)).toBe(ROUTES.settings);
  });
});

describe("safeReturnTo, fuzzed", () => {
  // What a browser does with the Location we send: resolve it against our origin.
  const lands = (location: string) => new URL(location, "https://crm.example").origin;
  // Built from the pieces redirect tricks are made of, so the search reaches them.
  const piece = fc.constantFrom(
    "/",
    "//",
    "\\",
    ".",
    "..",
    "%2e",
    "%2E",
    "%2f",
    "%5c",
    "evil.example",
    "a",
    "?",
    "#",
    "@",
    ":",
    "\t",
    "\n",
    " ",
    "https:",
    "javascript:",
  );
  const pathish = fc.array(piece, { maxLength: 8 }).map((pieces) => pieces.join(""));

  it("never yields a Location that a browser resolves to another origin", () => {
    fc.assert(
      fc.property(fc.oneof(pathish, fc.string(), fc.webUrl(), fc.webPath()), (input) => {
        const location = safeReturnTo(input);
        expect(lands(location)).toBe("https://crm.example");
        expect(location.startsWith("/")).toBe(true);
        expect(location.startsWith("//")).toBe(false);
        expect(location).not.toContain("\\");
      }),
      { numRuns: 5_000 },
    );
  });
});
