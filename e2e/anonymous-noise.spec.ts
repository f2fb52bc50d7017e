import { readFileSync } from "node:fs";
import path from "node:path";

import { APP_URL, STATE_DIR } from "./support/env.ts";
import { expect, test } from "./support/fixtures.ts";

// What anyone can send must not fill the operators' error log: requests no page of ours sends
// are answered plainly, and logged at warn at most.

const serverLog = () => readFileSync(path.join(STATE_DIR, "server.log"), "utf8");

/** Lines the server wrote since `from` at error level or worse, or as a bare error from Next.js. */
function errorsSince(from: number): string[] {
  return serverLog()
    .slice(from)
    .split("\n")
    .filter((line) => {
      if (!line.trim()) return false;
      if (!line.startsWith("{")) return /error/i.test(line);
      return Number((JSON.parse(line) as { level?: number }).level) >= 50;
    });
}

const form = (fields: Record<string, string>) => ({
  method: "POST",
  redirect: "manual" as const,
  headers: { "Content-Type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(fields),
});

test("anonymous posts to Auth.js's endpoints log no error", async () => {
  const from = serverLog().length;
  const paths = [
    "/api/auth/signin/nope",
    "/api/auth/nope",
    "/api/auth/callback/nope",
    "/api/auth/callback/credentials",
  ];
  for (let i = 0; i < 50; i++) {
    const answer = await fetch(`${APP_URL}${paths[i % paths.length]}`, form({ email: `a${i}@x.test`, password: "x" }));
    await answer.arrayBuffer();
    expect(answer.status, paths[i % paths.length]).toBeLessThan(500);
  }
  // Warn lines are written as they happen; give the last a moment to land, then read.
  await expect.poll(() => serverLog().length).toBeGreaterThan(from);
  expect(errorsSince(from)).toEqual([]);
});

test("a server action posted from another site is refused with 403 before Next.js handles it", async () => {
  const from = serverLog().length;
  const tries: Record<string, string>[] = [
    { Origin: "https://evil.example", "Sec-Fetch-Site": "cross-site" },
    { Origin: "https://evil.example" },
    {},
  ];
  for (const headers of tries) {
    const answer = await fetch(`${APP_URL}/settings/integrations`, {
      method: "POST",
      redirect: "manual",
      headers: { ...headers, "Next-Action": "0".repeat(42), "Content-Type": "text/plain;charset=UTF-8" },
      body: "[]",
    });
    await answer.arrayBuffer();
    expect(answer.status).toBe(403);
  }
  expect(errorsSince(from)).toEqual([]);
});

test("a settings form no page of ours sends is a 400 invalid_input, not an error", async ({ signedIn }) => {
  const { page } = await signedIn("admin");
  const from = serverLog().length;
  for (const [route, fields] of [
    ["/api/integrations/pipedrive/install", { decision: "maybe" }],
    ["/api/integrations/pipedrive/notifications", { mail: "off" }],
  ] as const) {
    const answer = await page.request.post(route, {
      form: fields,
      headers: { Origin: APP_URL, "Sec-Fetch-Site": "same-origin" },
      maxRedirects: 0,
    });
    expect(answer.status(), route).toBe(400);
    expect(await answer.json()).toEqual({ error: { code: "invalid_input" } });
  }
  expect(errorsSince(from)).toEqual([]);
});
