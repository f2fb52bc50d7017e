import { describe, expect, it } from "vitest";

import { createApiClient } from "./api-client.ts";

// What an answer's rate-limit headers may make every later caller wait, inside this process.

const ME = {
  success: true,
  data: { id: 1, name: "Pat", email: "pat@x.test", company_id: 7, company_name: "Acme", company_domain: "acme" },
};

function clientAnswering(headers: Record<string, string>) {
  const slept: number[] = [];
  let clock = Date.parse("2026-12-06T12:00:00Z");
  const api = createApiClient({
    fetch: async () =>
      new Response(JSON.stringify(ME), { status: 200, headers: { "content-type": "application/json", ...headers } }),
    timeoutMs: 1000,
    sleep: async (ms) => {
      slept.push(ms);
      clock += ms;
    },
    maxRateLimitRetries: 2,
    maxRateLimitWaitMs: 60 * 60_000,
    random: () => 0,
    now: () => clock,
  });
  return { api, slept };
}

describe("a 2xx answer that says the window is spent", () => {
  it.each([["1e400"], ["86400"], ["Infinity"]])(
    "holds the next call for at most the burst window, whatever its reset says (%s)",
    async (reset) => {
      const { api, slept } = clientAnswering({ "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset });
      await api.me("https://acme.pipedrive.com", "token");
      await api.me("https://acme.pipedrive.com", "token");
      expect(slept.length).toBe(1);
      expect(slept[0]).toBeLessThanOrEqual(60_000 + 100);
    },
  );

  it("waits out a short window as it says", async () => {
    const { api, slept } = clientAnswering({ "x-ratelimit-remaining": "0", "x-ratelimit-reset": "2" });
    await api.me("https://acme.pipedrive.com", "token");
    await api.me("https://acme.pipedrive.com", "token");
    expect(slept).toEqual([2000]);
  });
});
