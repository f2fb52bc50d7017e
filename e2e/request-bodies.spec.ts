import { connect, type Socket } from "node:net";

import { APP_URL } from "./support/env.ts";
import { expect, test } from "./support/fixtures.ts";

// Every route that takes a body answers from its headers when they already decide (no session,
// no credentials, a declared size over the cap), and stops reading a chunked body at its cap.
// Each request below starts a body and never finishes it: a server that buffers bodies before
// its checks run never answers, so the answer arriving at all is the test.

const { hostname, port } = new URL(APP_URL);
const SAME_SITE = { "Sec-Fetch-Site": "same-origin", Origin: APP_URL };

type Started = { status: Promise<number>; socket: Socket };

/** Sends the request line, the headers and `sent` bytes of body, then keeps the socket open. */
function startRequest(method: string, path: string, headers: Record<string, string>, sent: string): Started {
  const socket = connect(Number(port), hostname);
  const status = new Promise<number>((resolve, reject) => {
    let head = "";
    socket.on("data", (chunk) => {
      head += chunk.toString("latin1");
      const match = head.match(/^HTTP\/1\.1 (\d{3})/);
      if (match) resolve(Number(match[1]));
    });
    socket.on("error", reject);
    socket.on("close", () => reject(new Error(`${method} ${path}: closed without an answer`)));
  });
  const lines = Object.entries({ Host: `${hostname}:${port}`, ...headers }).map(([k, v]) => `${k}: ${v}`);
  socket.write(`${method} ${path} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n${sent}`);
  return { status, socket };
}

async function answer(started: Started): Promise<number> {
  try {
    return await started.status;
  } finally {
    started.socket.destroy();
  }
}

const form = (bytes: number) => `email=a%40b.c&password=${"x".repeat(bytes)}`;

test.describe("a declared body over the cap is refused before it arrives", () => {
  for (const [name, path] of [
    ["the sign-in form", "/sign-in/submit"],
    ["Auth.js's credentials endpoint", "/api/auth/callback/credentials"],
    ["a settings form", "/api/integrations/pipedrive/lookup"],
  ] as const) {
    test(name, async () => {
      const started = startRequest(
        "POST",
        path,
        { ...SAME_SITE, "Content-Type": "application/x-www-form-urlencoded", "Content-Length": "20480" },
        form(1000),
      );
      expect(await answer(started)).toBe(413);
    });
  }
});

test("an uninstall notice without credentials is refused before its body arrives", async () => {
  const started = startRequest(
    "DELETE",
    "/api/integrations/pipedrive/callback",
    { "Content-Type": "application/json", "Content-Length": "20480" },
    "{".padEnd(1000, " "),
  );
  expect(await answer(started)).toBe(401);
});

test("a settings form without a session is answered before its body arrives", async () => {
  const started = startRequest(
    "POST",
    "/api/integrations/pipedrive/lookup",
    { ...SAME_SITE, "Content-Type": "application/x-www-form-urlencoded", "Content-Length": "1000" },
    "phone=%2B1",
  );
  expect(await answer(started)).toBe(303);
});

test.describe("a chunked body is read only up to the cap", () => {
  const chunk = (text: string) => `${text.length.toString(16)}\r\n${text}\r\n`;
  for (const [name, path] of [
    ["the sign-in form", "/sign-in/submit"],
    ["Auth.js's credentials endpoint", "/api/auth/callback/credentials"],
  ] as const) {
    test(name, async () => {
      const started = startRequest(
        "POST",
        path,
        { ...SAME_SITE, "Content-Type": "application/x-www-form-urlencoded", "Transfer-Encoding": "chunked" },
        chunk(form(6000)),
      );
      expect(await answer(started)).toBe(413);
    });
  }

  test("a settings form", async ({ signedIn }) => {
    const { page } = await signedIn("admin");
    const cookies = await page.context().cookies();
    const started = startRequest(
      "POST",
      "/api/integrations/pipedrive/lookup",
      {
        ...SAME_SITE,
        Cookie: cookies.map((c) => `${c.name}=${c.value}`).join("; "),
        "Content-Type": "application/x-www-form-urlencoded",
        "Transfer-Encoding": "chunked",
      },
      chunk(`phone=${"1".repeat(6000)}`),
    );
    expect(await answer(started)).toBe(413);
  });
});

test("routes the proxy does not run for still send the security headers", async ({ request }) => {
  for (const path of ["/api/health", "/api/auth/csrf"]) {
    const headers = (await request.get(path)).headers();
    expect(headers["content-security-policy"], path).toContain("frame-ancestors 'none'");
    expect(headers["x-frame-options"], path).toBe("DENY");
    expect(headers["x-content-type-options"], path).toBe("nosniff");
  }
});

test("404s carry the security headers too, wherever they are", async ({ request }) => {
  for (const path of [
    "/sign-in/submitx",
    "/sign-in/submit/x",
    "/bench-floor",
    "/bench-floor/x",
    "/api/nope",
    "/nope",
  ]) {
    const answer = await request.get(path, { maxRedirects: 0 });
    expect(answer.status(), path).toBe(404);
    const headers = answer.headers();
    expect(headers["content-security-policy"], path).toContain("frame-ancestors 'none'");
    expect(headers["x-frame-options"], path).toBe("DENY");
    expect(headers["x-content-type-options"], path).toBe("nosniff");
  }
});
