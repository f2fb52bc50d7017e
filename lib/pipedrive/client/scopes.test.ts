import { describe, expect, it } from "vitest";

import { missingScopes, scopeInWords } from "./scopes.ts";

describe("missing scopes", () => {
  it("are the required ones a grant lacks; a :full scope covers its :read one", () => {
    expect(missingScopes(["base", "contacts:read"], ["contacts:read"])).toEqual([]);
    expect(missingScopes(["base", "contacts:full"], ["contacts:read"])).toEqual([]);
    expect(missingScopes(["base"], ["contacts:read", "search:read"])).toEqual(["contacts:read", "search:read"]);
    expect(missingScopes(["contacts:read"], ["contacts:full"])).toEqual(["contacts:full"]);
  });

  it("are named in plain words for people", () => {
    expect(scopeInWords("contacts:read")).toBe("read contacts (people and organisations)");
    expect(scopeInWords("mystery:scope")).toBe("mystery:scope");
  });
});
