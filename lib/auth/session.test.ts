import { describe, expect, it, vi } from "vitest";

vi.mock("./auth.ts", () => ({ auth: async () => null }));
const { HOME, safeReturnTo } = await import("./session.ts");

describe("safeReturnTo", () => {
  it("keeps a same-site path and its query", () => {
    expect(safeReturnTo("/settings/integrations?pipedrive=connected")).toBe("/settings/integrations?pipedrive=connected");
  });

  it.each([
    "https://evil.example",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "/\t/evil.example",
    "http:/evil.example",
    "",
    undefined,
    ["/a", "/b"],
  ])("sends %j home instead of off-site", (value) => {
    expect(safeReturnTo(value)).toBe(HOME);
  });
});
