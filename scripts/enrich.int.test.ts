import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

import { db, sql } from "../lib/db.ts";
import { startMockPipedrive, type MockPipedrive } from "../testing/mock-pipedrive/index.ts";
import { runScript } from "../testing/support/run-script.ts";
import {
  connectThroughMock,
  createTenant,
  MOCK_PROFILE,
  TEST_REDIRECT_URI,
  testContext,
} from "../testing/support/vitest-harness.ts";

let mock: MockPipedrive;
beforeAll(async () => {
  mock = await startMockPipedrive({ redirectUris: [TEST_REDIRECT_URI], profile: MOCK_PROFILE });
});
afterAll(() => mock.close());

const runtimeDir = mkdtempSync(path.join(tmpdir(), "crm-runtime-"));
afterAll(() => rmSync(runtimeDir, { recursive: true, force: true }));
const noRuntime = path.join(runtimeDir, "absent.json");

// Asynchronous on purpose: the mock answering the CLI lives in this process.
const enrich = (...args: string[]) =>
  runScript("scripts/enrich.ts", args, {
    CRM_RUNTIME_FILE: noRuntime,
    PIPEDRIVE_CLIENT_ID: mock.clientId,
    PIPEDRIVE_CLIENT_SECRET: mock.clientSecret,
    PIPEDRIVE_OAUTH_BASE_URL: mock.url,
    PIPEDRIVE_MOCK_HOST: mock.host,
  });

const ANA = {
  id: 101,
  name: "Ana Souza",
  phones: ["+55 11 99999-0001"],
  emails: ["ana@acme.example"],
  organization: { id: 11, name: "Acme Brasil" },
  // The Pipedrive user who owns the person: the one who connected, in the mock.
  ownerId: expect.any(Number),
};

describe("npm run enrich", () => {
  it("prints the matches as JSON and exits 0", async () => {
    const { tenantId, admin } = await createTenant();
    await connectThroughMock(testContext(mock), mock, admin);
    const result = await enrich("--tenant", tenantId, "--phone", "+55 11 99999-0001");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([ANA]);
  });

  it("says not connected in one line and exits non-zero", async () => {
    const { tenantId } = await createTenant();
    const result = await enrich("--tenant", tenantId, "--phone", "+55 11 99999-0001");
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim().split("\n")).toEqual([
      "enrich: not_connected: Pipedrive is not connected for this workspace.",
    ]);
  });

  it("exits 75 (try again later) while a refused renewal is only suspected, and 1 once it is judged", async () => {
    const { tenantId, admin } = await createTenant();
    await connectThroughMock(testContext(mock), mock, admin);
    await db().leadPipedriveIntegration.update({ where: { tenantId }, data: { expiresAt: new Date(0) } });
    mock.setFaults({ token: { mode: "invalid_grant", grant: "refresh_token" } });
    try {
      const checking = await enrich("--tenant", tenantId, "--phone", "+55 11 99999-0001");
      expect(checking.stderr).toMatch(
        /^enrich: renewal_checking: Pipedrive refused a renewal .* Try again in a minute\./,
      );
      expect(checking.code).toBe(75);
      await db().pipedriveConnection.update({ where: { tenantId }, data: { status: "needs_reconnect" } });
      const judged = await enrich("--tenant", tenantId, "--phone", "+55 11 99999-0001");
      expect(judged.stderr).toMatch(/^enrich: needs_reconnect: /);
      expect(judged.code).toBe(1);
    } finally {
      mock.setFaults({});
    }
  });

  it("respects a company's pause whatever form api_domain was written in, and exits 75 with the time in UTC", async () => {
    const { tenantId, admin } = await createTenant();
    await connectThroughMock(testContext(mock), mock, admin);
    const until = new Date(Date.now() + 3_600_000);
    await sql().query(
      `INSERT INTO pipedrive_rate_limits (api_host, blocked_until, reason, updated_at) VALUES ($1, $2, 'test', now())
       ON CONFLICT (api_host) DO UPDATE SET blocked_until = EXCLUDED.blocked_until`,
      [mock.host, until],
    );
    try {
      for (const apiDomain of [`https://${mock.host}`, `HTTPS://${mock.host.toUpperCase()}/`]) {
        await db().leadPipedriveIntegration.update({ where: { tenantId }, data: { apiDomain } });
        mock.reset();
        const paused = await enrich("--tenant", tenantId, "--phone", "+55 11 99999-0001");
        expect(
          mock.requests().filter((r) => r.path.startsWith("/api/")),
          apiDomain,
        ).toEqual([]);
        expect(paused.code, apiDomain).toBe(75);
        // The page's words, and the moment as ISO UTC for scripts.
        expect(paused.stderr).toContain("rate_limited: Pipedrive's request limit for this company is used up.");
        expect(paused.stderr).toContain(`retry_at=${until.toISOString().slice(0, 19)}`);
      }
    } finally {
      await sql().query(`DELETE FROM pipedrive_rate_limits WHERE api_host = $1`, [mock.host]);
    }
  });

  it("refuses a stored host that is not Pipedrive's, without sending the token there", async () => {
    const { tenantId, admin } = await createTenant();
    await connectThroughMock(testContext(mock), mock, admin);
    await db().leadPipedriveIntegration.update({ where: { tenantId }, data: { apiDomain: "127.0.0.1:4310" } });
    const result = await enrich("--tenant", tenantId, "--phone", "+55 11 99999-0001");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^enrich: api_domain_invalid: The stored Pipedrive address is not a Pipedrive host/);
  });

  it("refuses bad input before calling Pipedrive, and bad arguments with usage", async () => {
    const { tenantId } = await createTenant();
    expect(await enrich("--tenant", tenantId, "--phone", "letters only")).toMatchObject({ code: 1, stdout: "" });
    expect(await enrich("--tenant", "not-a-uuid", "--phone", "1234")).toMatchObject({ code: 2 });
    expect((await enrich("--phone", "1234")).stderr).toMatch(/^usage:/);
  });
});

describe("npm run enrich beside a running npm run dev", () => {
  const runtimeFile = path.join(runtimeDir, "runtime.json");
  // The CLI's own environment points at the wrong mock; only the dev server's record is right.
  const beside = (file: string, ...args: string[]) =>
    runScript("scripts/enrich.ts", args, {
      CRM_RUNTIME_FILE: file,
      DATABASE_URL: "",
      MOCK_PIPEDRIVE_PORT: "1",
      PIPEDRIVE_CLIENT_ID: "",
      PIPEDRIVE_CLIENT_SECRET: "",
      PIPEDRIVE_OAUTH_BASE_URL: "",
      PIPEDRIVE_MOCK_HOST: "",
    });
  const record = (runtime: object) => writeFileSync(runtimeFile, JSON.stringify(runtime));
  const demoSettings = () => ({
    APP_URL: "http://localhost:3000",
    PIPEDRIVE_CLIENT_ID: mock.clientId,
    PIPEDRIVE_OAUTH_BASE_URL: mock.url,
    PIPEDRIVE_MOCK_HOST: mock.host,
  });

  it("uses the database and the Pipedrive settings the running app was started with", async () => {
    const { tenantId, admin } = await createTenant();
    await connectThroughMock(testContext(mock), mock, admin);
    record({
      databaseUrl: inject("databaseUrl"),
      embedded: true,
      pid: process.pid,
      demo: true,
      settings: demoSettings(),
    });
    const result = await beside(runtimeFile, "--tenant", tenantId, "--phone", "+55 11 99999-0001");
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual([ANA]);
  });

  it("refuses, with a clear line, when it cannot tell which settings to use", async () => {
    const { tenantId } = await createTenant();
    const args = ["--tenant", tenantId, "--phone", "+55 11 99999-0001"];
    expect(await beside(noRuntime, ...args)).toMatchObject({
      code: 2,
      stdout: "",
      stderr:
        "enrich: npm run dev is not running: start it first, or set DATABASE_URL and the Pipedrive settings (see README, Configuration)\n",
    });
    record({
      databaseUrl: inject("databaseUrl"),
      embedded: true,
      pid: 2 ** 22 + 1,
      demo: true,
      settings: demoSettings(),
    });
    expect((await beside(runtimeFile, ...args)).stderr).toMatch(/^enrich: npm run dev is not running/);
    writeFileSync(runtimeFile, "{ not json");
    expect((await beside(runtimeFile, ...args)).stderr).toMatch(
      /^enrich: cannot read .*runtime\.json, written by npm run dev/,
    );
    record({
      databaseUrl: inject("databaseUrl"),
      embedded: false,
      pid: process.pid,
      demo: false,
      settings: { ...demoSettings(), PIPEDRIVE_CLIENT_ID: "real-app" },
    });
    expect(await beside(runtimeFile, ...args)).toMatchObject({
      code: 2,
      stderr:
        "enrich: the running npm run dev uses the Pipedrive app real-app: set PIPEDRIVE_CLIENT_SECRET to its secret\n",
    });
  });
});
