import { readFileSync } from "node:fs";
import path from "node:path";

import { testDb } from "./support/db.ts";
import { APP_URL, STATE_DIR } from "./support/env.ts";
import { expect, test } from "./support/fixtures.ts";
import { mock } from "./support/mock.ts";

// What operators rely on: health checks, structured logs with secrets redacted, alerts.

const jsonLines = () =>
  readFileSync(path.join(STATE_DIR, "server.log"), "utf8")
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

test("liveness and readiness answer JSON for load balancers, with no secret in them", async ({ request }) => {
  const live = await request.get("/api/health");
  expect(live.status()).toBe(200);
  expect(await live.json()).toEqual({ status: "ok" });
  const ready = await request.get("/api/health/ready");
  expect(ready.status()).toBe(200);
  const body = (await ready.json()) as Record<string, unknown>;
  expect(body).toMatchObject({
    status: "ready",
    database: "ok",
    migrations: "ok",
    keeper: { status: "ok" },
    pipedriveCredentials: { status: "ok" },
  });
  const text = JSON.stringify(body);
  for (const secret of ["e2e-auth-secret", "mock-client-secret", "embedded-postgres", "postgresql://"])
    expect(text).not.toContain(secret);
  expect(ready.headers()["cache-control"]).toBe("no-store");
});

test("the production build logs JSON lines with a request id, and redacts codes, states and Authorization by configuration", async ({
  signedIn,
}) => {
  const { integrations } = await signedIn("admin");
  await integrations.connect();
  const lines = jsonLines();
  const callback = lines.filter((line) => line.msg === "pipedrive callback").at(-1);
  expect(callback).toMatchObject({
    level: 30,
    outcome: "/settings/integrations?pipedrive=connected",
    query: { code: "[Redacted]", state: "[Redacted]" },
  });
  expect(String(callback?.requestId)).toMatch(/^[0-9a-f-]{36}$/);
  expect(callback?.tenant).toBeTruthy();

  expect((await mock.uninstall(`${APP_URL}/api/integrations/pipedrive/callback`, "wrong")).status).toBe(401);
  // The server's output reaches the log file through a pipe: wait for the line, not the clock.
  await expect
    .poll(() => jsonLines().filter((line) => line.msg === "pipedrive uninstall notice" && line.outcome === 401).length)
    .toBeGreaterThan(0);
  const uninstall = jsonLines()
    .filter((line) => line.msg === "pipedrive uninstall notice" && line.outcome === 401)
    .at(-1);
  expect(uninstall).toMatchObject({ outcome: 401, authorization: "[Redacted]" });

  const raw = readFileSync(path.join(STATE_DIR, "server.log"), "utf8");
  for (const token of await mock.issuedTokens()) expect(raw).not.toContain(token);
  expect(raw).not.toContain(Buffer.from("mock-client-id:not-the-secret").toString("base64"));
});

test("when Pipedrive rejects the app's credentials, admins see an operator banner and readiness reports it", async ({
  signedIn,
  request,
}) => {
  const kind = "pipedrive_app_credentials_rejected";
  await testDb.operatorAlert(kind, true);
  try {
    const admin = await signedIn("admin");
    await admin.integrations.goto();
    const banner = admin.page.getByRole("alert").filter({ hasText: "Pipedrive rejects this app's credentials" });
    await expect(banner).toContainText("reconnecting will not help");
    const member = await signedIn("member");
    await member.integrations.goto();
    await expect(member.page.getByText("Pipedrive rejects this app's credentials")).toHaveCount(0);
    // Members learn only what they need: lookups are down and the operators know.
    await expect(member.page.locator(".operator-alert")).toContainText("Lookups are unavailable");
    await expect(member.page.locator(".operator-alert")).toContainText("operators have been told");
    // Readiness is shared for up to 5 seconds: wait for the fresh answer, not the clock.
    const credentials = async () =>
      (
        (await (await request.get("/api/health/ready")).json()) as {
          pipedriveCredentials: { status: string; since: string | null };
        }
      ).pipedriveCredentials;
    await expect.poll(async () => (await credentials()).status, { timeout: 15_000 }).toBe("rejected");
    expect((await credentials()).since).not.toBeNull();
  } finally {
    await testDb.operatorAlert(kind, false);
  }
});
