import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";

import { runScript } from "../testing/support/run-script.ts";
import { scratchDatabases } from "../testing/support/scratch-databases.ts";

// `npm start` as an operator runs it: a production-like setting without the rest refuses to
// start, naming what is missing, before it starts or writes anything.

const freshDatabase = scratchDatabases(inject("databaseUrl"));
const runtimeDir = mkdtempSync(path.join(tmpdir(), "crm-launcher-"));
afterAll(() => rmSync(runtimeDir, { recursive: true, force: true }));

const UNSET = {
  DATABASE_URL: "",
  PIPEDRIVE_CLIENT_ID: "",
  PIPEDRIVE_CLIENT_SECRET: "",
  AUTH_SECRET: "",
  APP_URL: "",
  DEMO: "",
};
const npmStart = (settings: Record<string, string>) =>
  runScript("scripts/dev.ts", ["--production"], {
    ...UNSET,
    CRM_RUNTIME_FILE: path.join(runtimeDir, "runtime.json"),
    PORT: "3197",
    ...settings,
  });

describe("npm start with part of a deployment's settings", () => {
  it("refuses real Pipedrive credentials without a database, rather than start the embedded one", async () => {
    const run = await npmStart({ PIPEDRIVE_CLIENT_ID: "real-id", PIPEDRIVE_CLIENT_SECRET: "real-secret" });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/missing: DATABASE_URL, AUTH_SECRET, APP_URL/);
    expect(run.stdout).not.toContain("embedded PostgreSQL");
  });

  it("refuses a database without Pipedrive credentials, and adds nothing to it", async () => {
    const url = await freshDatabase("launcher");
    const run = await npmStart({ DATABASE_URL: url, AUTH_SECRET: "x".repeat(32), APP_URL: "https://crm.example.com" });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/missing: PIPEDRIVE_CLIENT_ID, PIPEDRIVE_CLIENT_SECRET/);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const tables = await client.query("SELECT 1 FROM information_schema.tables WHERE table_schema = 'public'");
      expect(tables.rowCount).toBe(0);
    } finally {
      await client.end();
    }
  });

  it.each([
    ["an upper-case HTTPS APP_URL", { APP_URL: "HTTPS://crm.example.com" }],
    ["AUTH_SECRET alone", { AUTH_SECRET: "x".repeat(32) }],
    ["nothing at all", {}],
  ])("refuses %s: only DEMO=1 starts the demo, whose passwords are published", async (_, settings) => {
    const run = await npmStart(settings);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/missing: DATABASE_URL, PIPEDRIVE_CLIENT_ID, PIPEDRIVE_CLIENT_SECRET/);
    expect(run.stderr).toContain("DEMO=1 npm start");
    expect(run.stdout).not.toContain("embedded PostgreSQL");
    expect(run.stdout).not.toContain("demo mode");
  });

  it("refuses DEMO=1 beside an https APP_URL in any case", async () => {
    const run = await npmStart({ DEMO: "1", APP_URL: "HTTPS://crm.example.com" });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("APP_URL (not http://localhost) is set");
    expect(run.stdout).not.toContain("embedded PostgreSQL");
  });
});

describe("the runtime record", () => {
  it("is neither overwritten nor deleted by a second start while the first runs", async () => {
    const file = path.join(runtimeDir, "second-start.json");
    // The first start's record, held by a live process that is not the second start.
    const first = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    // Its database refuses connections, so the second start (a demo, which reuses it) fails and exits.
    const databaseUrl = "postgresql://crm@127.0.0.1:1/crm";
    const record = { databaseUrl, embedded: true, pid: first.pid, demo: true, settings: {} };
    writeFileSync(file, JSON.stringify(record));
    try {
      const run = await runScript("scripts/dev.ts", ["--production"], {
        ...UNSET,
        DEMO: "1",
        CRM_RUNTIME_FILE: file,
      });
      expect(run.code).toBe(1);
      expect(run.stdout).toContain("another npm run dev or npm start runs in this checkout");
      expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(record);
    } finally {
      first.kill();
    }
  });
});
