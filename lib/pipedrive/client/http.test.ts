import { describe, expect, it } from "vitest";

import { isPipedriveError, MAX_UPSTREAM_WAIT_MS, readJsonBody, retryAfterMs, send, sleep, type Fetch } from "./http.ts";

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

describe("a call's timeout", () => {
  // Headers at 150 ms and the body 150 ms later, under a 200 ms timeout: an answer begun in time.
  // On a loaded machine this is the common shape, since a starved event loop runs the expired
  // timer before it reads the body that came with the headers.
  const slowBody: Fetch = async (_url, init) => {
    const signal = init?.signal;
    await Promise.race([
      sleep(150),
      new Promise((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason as Error))),
    ]);
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        await sleep(150);
        if (signal?.aborted) return controller.error(signal.reason);
        controller.enqueue(new TextEncoder().encode('{"ok":true}'));
        controller.close();
      },
    });
    return new Response(body, { status: 200, headers: { "content-type": "application/json" } });
  };

  it("bounds the wait for an answer to begin, and then the reading of it, each on its own", async () => {
    const response = await send(slowBody, "https://x.pipedrive.com/", {}, 200, "test call");
    expect(await readJsonBody(response, "test call", 1024)).toEqual({ ok: true });
  });

  it("still ends a call whose answer does not begin in time", async () => {
    const failure = await send(slowBody, "https://x.pipedrive.com/", {}, 100, "test call").catch((e: unknown) => e);
    expect(isPipedriveError(failure, "unavailable") && failure.details.timedOut).toBe(true);
  });
});
