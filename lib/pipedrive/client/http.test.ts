import { describe, expect, it } from "vitest";

import { MAX_UPSTREAM_WAIT_MS, retryAfterMs } from "./http.ts";

const headers = (values: Record<string, string>) => new Headers(values);
const NOW = Date.parse("2026-12-04T12:00:00Z");

describe("an upstream wait is bounded", () => {
  it("reads Retry-After in seconds, and as an HTTP date", () => {
    expect(retryAfterMs(headers({ "retry-after": "7" }), NOW)).toBe(7000);
    expect(retryAfterMs(headers({ "retry-after": "Fri, 04 Dec 2026 12:01:00 GMT" }), NOW)).toBe(60_000);
    expect(retryAfterMs(headers({ "retry-after": "Fri, 04 Dec 2026 11:00:00 GMT" }), NOW)).toBe(0);
    expect(retryAfterMs(headers({ "x-ratelimit-reset": "2" }), NOW)).toBe(2000);
  });

  it.each([["1e16"], ["99999999999"], ["Infinity"], ["Wed, 01 Jan 2343 00:00:00 GMT"]])(
    "caps %s at 24 hours",
    (value) => {
      expect(retryAfterMs(headers({ "retry-after": value }), NOW)).toBe(MAX_UPSTREAM_WAIT_MS);
      expect(MAX_UPSTREAM_WAIT_MS).toBe(24 * 60 * 60 * 1000);
    },
  );

  it.each([["-5"], ["soon"], [""], ["Thu, 99 Foo 2026"], ["0x10"], ["NaN"]])("refuses %j", (value) => {
    expect(retryAfterMs(headers({ "retry-after": value }), NOW)).toBeUndefined();
  });

  it("caps x-ratelimit-reset as well", () => {
    expect(retryAfterMs(headers({ "x-ratelimit-reset": "1e12" }), NOW)).toBe(MAX_UPSTREAM_WAIT_MS);
  });
});
