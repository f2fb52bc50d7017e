import { readFileSync } from "node:fs";
import path from "node:path";

import pg from "pg";

import { E2E_SERVICE_KEY } from "../testing/support/e2e-app.ts";
import { testDb } from "./support/db.ts";
import { APP_URL, DEMO_TENANT_ID, STATE_DIR } from "./support/env.ts";
import { expect, test } from "./support/fixtures.ts";
import { startInstance, type Instance } from "./support/instance.ts";

// Overload is an answer, not an error: when the database cannot take the work (here its tables
// are locked, so every statement waits out a 1 s timeout on a pool of 2 with a 300 ms wait), each
// route answers a plain 503 with Retry-After over real HTTP to the production build, writes
// nothing, and works again as soon as the database does.

const TABLES = ["users", "tenants", "lead_pipedrive_integrations", "pipedrive_connections", "pipedrive_oauth_states"];

let instance: Instance;
test.beforeAll(async () => {
  test.setTimeout(120_000);
  instance = await startInstance(3198, {
    set: { DB_POOL_SIZE: "2", DB_POOL_WAIT_MS: "300", DB_STATEMENT_TIMEOUT_MS: "1000" },
  });
});
test.afterAll(() => instance.stop());

test("with the database unable to take work, every route says busy with Retry-After, and nothing is written", async ({
  signedIn,
}) => {
  test.setTimeout(90_000);
  const { page, integrations } = await signedIn("admin");
  await integrations.connect();
  const session = (await page.context().cookies(APP_URL)).find((c) => c.name === "authjs.session-token")!;
  const cookie = `authjs.session-token=${session.value}`;
  const form = { "Content-Type": "application/x-www-form-urlencoded", Origin: instance.url, cookie };
  const rowsBefore = await testDb.query(`SELECT * FROM lead_pipedrive_integrations WHERE tenant_id = $1`, [
    DEMO_TENANT_ID,
  ]);
  const eventsBefore = await testDb.query(`SELECT count(*)::int AS n FROM pipedrive_audit_events`);

  const holder = new pg.Client({
    connectionString: readFileSync(path.join(STATE_DIR, "database-url"), "utf8").trim(),
  });
  await holder.connect();
  await holder.query("BEGIN");
  await holder.query(`LOCK TABLE ${TABLES.join(", ")} IN ACCESS EXCLUSIVE MODE`);
  const answers: Record<string, Response> = {};
  try {
    const at = (p: string) => `${instance.url}${p}`;
    const callback = "/api/integrations/pipedrive/callback?code=some-code&state=some-state";
    [answers.page, answers.connect, answers.lookup, answers.callback, answers.uninstall, answers.token] =
      await Promise.all([
        fetch(at("/settings/integrations"), { headers: { cookie }, redirect: "manual" }),
        fetch(at("/api/integrations/pipedrive/authorize"), {
          method: "POST",
          headers: form,
          body: "",
          redirect: "manual",
        }),
        fetch(at("/api/integrations/pipedrive/lookup"), {
          method: "POST",
          headers: form,
          body: "phone=%2B55+11+99999-0001",
          redirect: "manual",
        }),
        fetch(at(callback), { headers: { cookie }, redirect: "manual" }),
        fetch(at("/api/integrations/pipedrive/callback"), {
          method: "DELETE",
          headers: {
            Authorization: `Basic ${Buffer.from("mock-client-id:mock-client-secret").toString("base64")}`,
            "Content-Type": "application/json",
          },
          body: JSON.stringify({ client_id: "mock-client-id", company_id: 1, user_id: 1 }),
        }),
        fetch(at(`/api/services/pipedrive/token?tenant_id=${DEMO_TENANT_ID}`), {
          headers: { Authorization: `Bearer ${E2E_SERVICE_KEY}` },
        }),
      ]);
  } finally {
    await holder.query("ROLLBACK");
    await holder.end();
  }

  // A page sends its reader to the busy page, which is the 503.
  expect(answers.page!.status).toBe(307);
  expect(answers.page!.headers.get("location")).toMatch(/\/busy$/);
  const busy = await fetch(`${instance.url}/busy`);
  expect(busy.status).toBe(503);
  expect(busy.headers.get("retry-after")).toBe("5");
  expect(await busy.text()).toContain("The CRM is busy right now");

  const bodies: Record<string, string> = {};
  for (const name of ["connect", "lookup", "callback"] as const) {
    const answer = answers[name]!;
    const body = (bodies[name] = await answer.text());
    expect([name, answer.status], body.slice(0, 200)).toEqual([name, 503]);
    expect(answer.headers.get("retry-after"), name).toBe("5");
    expect(body, name).toContain("Nothing was changed");
    expect(body, name).not.toMatch(/prisma|statement timeout|stack/i);
  }
  // Pipedrive's redirect back can be tried again as it was: the page links to the same URL.
  expect(bodies.callback).toContain('href="/api/integrations/pipedrive/callback?code=some-code&amp;state=some-state"');
  for (const name of ["uninstall", "token"] as const) {
    expect([name, answers[name]!.status]).toEqual([name, 503]);
    expect(Number(answers[name]!.headers.get("retry-after")), name).toBeGreaterThanOrEqual(1);
  }

  // Nothing half-written, and the next request works.
  expect(
    await testDb.query(`SELECT * FROM lead_pipedrive_integrations WHERE tenant_id = $1`, [DEMO_TENANT_ID]),
  ).toEqual(rowsBefore);
  expect(await testDb.query(`SELECT count(*)::int AS n FROM pipedrive_audit_events`)).toEqual(eventsBefore);
  const again = await fetch(`${instance.url}/settings/integrations`, { headers: { cookie }, redirect: "manual" });
  expect(again.status).toBe(200);
  expect(await instance.output()).not.toMatch(/"level":50[^\n]*database busy/);
});
