import { describe, expect, it } from "vitest";

import { isSameOrigin } from "./responses.ts";

const post = (headers: Record<string, string>) =>
  new Request("http://localhost:3000/api/integrations/pipedrive/disconnect", { method: "POST", headers });

describe("isSameOrigin", () => {
  it("accepts our own origin, by either header or by both", () => {
    expect(isSameOrigin(post({ "sec-fetch-site": "same-origin" }))).toBe(true);
    expect(isSameOrigin(post({ origin: "http://localhost:3000" }))).toBe(true);
    expect(isSameOrigin(post({ "sec-fetch-site": "same-origin", origin: "http://localhost:3000" }))).toBe(true);
  });

  it("accepts Origin: null from our own pages under no-referrer, when Sec-Fetch-Site vouches for it", () => {
    expect(isSameOrigin(post({ "sec-fetch-site": "same-origin", origin: "null" }))).toBe(true);
  });

  it.each<Record<string, string>>([
    { "sec-fetch-site": "same-origin", origin: "https://evil.example" },
    { "sec-fetch-site": "cross-site", origin: "http://localhost:3000" },
    { "sec-fetch-site": "same-site", origin: "http://localhost:3000" },
    { "sec-fetch-site": "cross-site" },
    { origin: "https://evil.example" },
    { origin: "null" },
    {},
  ])("refuses %j", (headers) => {
    expect(isSameOrigin(post(headers))).toBe(false);
  });
});
