import { readFileSync } from "node:fs";
import { connect } from "node:net";
import path from "node:path";

import { encode } from "next-auth/jwt";

import { keyedHash } from "../lib/crypto.ts";
import { E2E_AUTH_SECRET } from "../testing/support/e2e-app.ts";
import { testDb } from "./support/db.ts";
import { APP_URL, DEMO_TENANT_ID, STATE_DIR, USERS } from "./support/env.ts";
import { expect, test } from "./support/fixtures.ts";
import { postSignIn } from "./support/sign-in-form.ts";

// Hostile requests, over real HTTP to the production build (npm start's server): anonymous
// no-state callbacks, requests that used to throw, and sessions that slid forever.

const CALLBACK = `${APP_URL}/api/integrations/pipedrive/callback`;
const { hostname, port } = new URL(APP_URL);

/** One raw request, as an attacker's tool sends it; the status line's code. */
function rawStatus(requestLine: string, headers: Record<string, string> = {}, body = ""): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let head = "";
    socket.on("data", (chunk) => {
      head += chunk.toString("latin1");
      const match = head.match(/^HTTP\/1\.1 (\d{3})/);
      if (match) {
        resolve(Number(match[1]));
        socket.destroy();
      }
    });
    socket.on("error", reject);
    const lines = Object.entries({ Host: `${hostname}:${port}`, Connection: "close", ...headers }).map(
      ([k, v]) => `${k}: ${v}`,
    );
    socket.write(`${requestLine}\r\n${lines.join("\r\n")}\r\n\r\n${body}`);
  });
}

const serverLog = () => readFileSync(path.join(STATE_DIR, "server.log"), "utf8");
const logLines = () =>
  serverLog()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

test.describe("anonymous no-state callbacks", () => {
  const address = "198.51.100.231";
  const hold = (query: string) =>
    fetch(`${CALLBACK}?${query}`, { redirect: "manual", headers: { "X-Forwarded-For": address } });

  test.beforeEach(async () => {
    await testDb.query("DELETE FROM rate_limits WHERE key LIKE $1", [`%${address}%`]);
    await testDb.query("DELETE FROM pipedrive_pending_installs");
  });

  test("are limited per address: rows held, and callbacks answered, are capped", async () => {
    const answers: string[] = [];
    for (let i = 0; i < 40; i++) {
      const answer = await hold(`code=held-code-${i}-abcdefgh&attacker_key_${i}=${"x".repeat(200)}`);
      await answer.arrayBuffer();
      expect(answer.status).toBe(302);
      answers.push(answer.headers.get("location") ?? "");
    }
    const rows = await testDb.query<{ n: number }>("SELECT count(*)::int AS n FROM pipedrive_pending_installs");
    expect(rows[0]!.n).toBeLessThanOrEqual(10);
    expect(answers.filter((l) => l.includes("reason=install_busy")).length).toBeGreaterThanOrEqual(20);
    // Every answer is one of ours: sign-in to resume, or the settings page's enumerated banner.
    for (const location of answers)
      expect(location).toMatch(/\/sign-in\?callbackUrl=|pipedrive=error&reason=install_busy/);
    // Logged at warn, known keys only: nothing the attacker named reaches the log.
    await expect
      .poll(() => logLines().filter((l) => l.msg === "pipedrive callback" && l.level === 40).length)
      .toBeGreaterThanOrEqual(40);
    expect(serverLog()).not.toContain("attacker_key_");
    expect(logLines().filter((l) => l.msg === "pipedrive callback" && Number(l.level) >= 50)).toEqual([]);
  });

  test("accept only a code in Pipedrive's alphabet and length: anything else is never stored", async () => {
    for (const code of ["<script>", "a b c d e f g h", "x".repeat(600), "abc", "code\u0001withcontrol"]) {
      const answer = await hold(new URLSearchParams({ code }).toString());
      await answer.arrayBuffer();
      expect(answer.status).toBe(302);
      expect(answer.headers.get("location")).toContain("reason=install_expired");
    }
    expect(await testDb.query("SELECT 1 FROM pipedrive_pending_installs")).toHaveLength(0);
  });
});

test.describe("requests that used to throw get 400 or 405, never 500", () => {
  test("odd methods", async () => {
    for (const method of ["TRACE", "CONNECT", "PROPFIND", "PUT", "PATCH"]) {
      expect(await rawStatus(`${method} /sign-in HTTP/1.1`), method).toBe(405);
    }
    // A method Node's HTTP parser does not know is refused before any code of ours runs.
    expect([400, 405]).toContain(await rawStatus("TRACK /sign-in HTTP/1.1"));
    expect(await rawStatus("TRACE /api/integrations/pipedrive/callback HTTP/1.1")).toBe(405);
  });

  test("a NUL byte in the query or the path", async () => {
    expect(await rawStatus("GET /api/integrations/pipedrive/callback?code=abc%00defghijk HTTP/1.1")).toBe(400);
    expect(await rawStatus("GET /api/integrations/pipedrive/callback?code=abcdefghijk&state=a%00b HTTP/1.1")).toBe(400);
    expect(await rawStatus("GET /settings/integrations%00 HTTP/1.1")).toBe(400);
    // PostgreSQL's code for the NUL it refuses, as a word: a log line's millisecond timestamp may hold those digits.
    expect(serverLog()).not.toMatch(/\b22021\b|invalid byte sequence/);
  });

  test("a malformed multipart body, and a NUL byte in a form field", async () => {
    const sameSite = { "Sec-Fetch-Site": "same-origin", Origin: APP_URL };
    const broken = '--b\r\nContent-Disposition: form-data; name="email"\r\n\r\nno closing boundary';
    for (const target of ["/sign-in/submit", "/api/auth/callback/credentials"]) {
      const status = await rawStatus(
        `POST ${target} HTTP/1.1`,
        { ...sameSite, "Content-Type": "multipart/form-data; boundary=b", "Content-Length": String(broken.length) },
        broken,
      );
      expect(status, target).toBe(400);
      const nul = "email=admin%40demo.test%00&password=x";
      const withNul = await rawStatus(
        `POST ${target} HTTP/1.1`,
        { ...sameSite, "Content-Type": "application/x-www-form-urlencoded", "Content-Length": String(nul.length) },
        nul,
      );
      expect(withNul, `${target} with a NUL`).toBe(400);
    }
  });
});

test.describe("sessions have an absolute lifetime", () => {
  const cookieName = "authjs.session-token";

  async function forgedSession(signedInSecondsAgo: number) {
    const [user] = await testDb.query<{ id: string; session_version: number }>(
      "SELECT id::text, session_version FROM users WHERE email = $1",
      [USERS.admin.email],
    );
    const now = Math.floor(Date.now() / 1000);
    // Exactly what our jwt callback writes, sealed with the app's secret: only the sign-in time differs.
    return encode({
      secret: E2E_AUTH_SECRET,
      salt: cookieName,
      maxAge: 8 * 60 * 60,
      token: {
        uid: user!.id,
        tid: DEMO_TENANT_ID,
        role: "admin",
        sv: user!.session_version,
        sat: now - signedInSecondsAgo,
      },
    });
  }

  const pageWith = (token: string) =>
    fetch(`${APP_URL}/settings/integrations`, { redirect: "manual", headers: { Cookie: `${cookieName}=${token}` } });

  test("a session signed in 13 hours ago opens nothing, and no endpoint extends it", async () => {
    const fresh = await forgedSession(60 * 60);
    expect((await pageWith(fresh)).status, "an hour-old session still works").toBe(200);

    const old = await forgedSession(13 * 60 * 60);
    const page = await pageWith(old);
    expect(page.status).toBe(307);
    expect(page.headers.get("location")).toContain("/sign-in");

    const session = await fetch(`${APP_URL}/api/auth/session`, { headers: { Cookie: `${cookieName}=${old}` } });
    expect(await session.json()).toBeNull();
    const csrf = await fetch(`${APP_URL}/api/auth/csrf`, { headers: { Cookie: `${cookieName}=${old}` } });
    const csrfCookie = (csrf.headers.getSetCookie() ?? []).map((c) => c.split(";")[0]).join("; ");
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    const update = await fetch(`${APP_URL}/api/auth/session`, {
      method: "POST",
      headers: {
        Cookie: `${cookieName}=${old}; ${csrfCookie}`,
        "Content-Type": "application/json",
        Origin: APP_URL,
        "Sec-Fetch-Site": "same-origin",
      },
      body: JSON.stringify({ csrfToken }),
    });
    const renewed = update.headers
      .getSetCookie()
      .map((c) => c.split(";")[0]!)
      .find((c) => c.startsWith(`${cookieName}=`) && c.length > cookieName.length + 1);
    expect(renewed, "the session endpoint re-issued an expired session").toBeUndefined();
    expect(await update.json().catch(() => null)).toBeNull();
  });
});

test("an account's pause grows with each lockout from rotating addresses", async () => {
  const email = "rotating-target@attack.test";
  // Counters name an account by a keyed hash of its email, never the email.
  const account = keyedHash(E2E_AUTH_SECRET, "sign-in account", email);
  await testDb.query("DELETE FROM rate_limits WHERE key LIKE $1", [`%${account}%`]);
  let address = 0;
  const guess = async () => {
    // Each guess comes from an address of its own.
    const answer = await postSignIn(email, "guess", `198.18.${Math.floor(++address / 250)}.${address % 250}`);
    return answer.headers.get("retry-after");
  };
  const pauses: number[] = [];
  for (let round = 0; round < 3; round++) {
    let pause: string | null = null;
    for (let i = 0; i < 30 && pause === null; i++) pause = await guess();
    pauses.push(Number(pause));
    // The pause runs out, as time would end it.
    await testDb.query("DELETE FROM rate_limits WHERE key = $1", [`signin-acct:${account}`]);
  }
  expect(pauses).toEqual([60, 120, 240]);
});
