import { request } from "node:http";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { CONTROL_HEADER, startMockPipedrive, type MockPipedrive } from "./index.ts";

// The mock runs on people's laptops in the demo: a page on any site must not be able to drive
// it (a cross-site text/plain POST carries no custom header), nor read it through a rebound name.

let mock: MockPipedrive;
beforeAll(async () => {
  mock = await startMockPipedrive({ quiet: true });
});
afterAll(() => mock.close());

/** A raw request, with the Host header as given: what a browser sends after DNS rebinding. */
function raw(method: string, path: string, headers: Record<string, string>, body = ""): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: mock.port, method, path, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("the mock's control endpoints", () => {
  it("refuse a cross-site form's POST: no control header, nothing sent", async () => {
    const received: string[] = [];
    const status = await raw(
      "POST",
      "/__mock/uninstall",
      { Host: `localhost:${mock.port}`, "Content-Type": "text/plain", Origin: "https://evil.example" },
      JSON.stringify({ callbackUrl: "http://127.0.0.1:9/cb" }),
    );
    expect(status).toBe(403);
    expect(received).toEqual([]);
    expect(await raw("POST", "/__mock/reset", { Host: `localhost:${mock.port}` })).toBe(403);
  });

  it("refuse a foreign Host, even with the header", async () => {
    for (const host of ["evil.example", `evil.example:${mock.port}`, "localhost:1"])
      expect(await raw("GET", "/__mock/tokens", { Host: host, [CONTROL_HEADER]: "1" }), host).toBe(403);
  });

  it("answer the suite's own calls", async () => {
    for (const host of [`localhost:${mock.port}`, `127.0.0.1:${mock.port}`])
      expect(await raw("GET", "/__mock/tokens", { Host: host, [CONTROL_HEADER]: "1" }), host).toBe(200);
  });
});
