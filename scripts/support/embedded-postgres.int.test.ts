import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, statSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";

import { PASSWORD_FILE, startEmbeddedPostgres } from "./embedded-postgres.ts";

// The embedded PostgreSQL (`npm run dev`, QA's build) holds the demo's tokens: its superuser
// password is random per data directory, readable by its owner only, never a published one.

const LEGACY_PASSWORD = "embedded-postgres";
const dirs: string[] = [];
const dataDir = () => {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), "crm-embedded-")), "postgres");
  dirs.push(path.dirname(dir));
  return dir;
};
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

const withPassword = (url: string, password: string) => {
  const parsed = new URL(url);
  parsed.password = password;
  return parsed.toString();
};

describe("the embedded PostgreSQL's superuser password", () => {
  it("is random per data directory, kept in a file only its owner reads, and the same on the next start", async () => {
    const dir = dataDir();
    const first = await startEmbeddedPostgres({ dataDir: dir, database: "crm" });
    let password: string;
    try {
      password = decodeURIComponent(new URL(first.url).password);
      expect(password).not.toBe(LEGACY_PASSWORD);
      expect(password.length).toBeGreaterThanOrEqual(32);
      const file = path.join(dir, PASSWORD_FILE);
      expect((await readFile(file, "utf8")).trim()).toBe(password);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(await canConnect(withPassword(first.url, LEGACY_PASSWORD))).toBe(false);
      expect(await canConnect(first.url)).toBe(true);
    } finally {
      await first.stop();
    }
    const again = await startEmbeddedPostgres({ dataDir: dir, database: "crm" });
    try {
      expect(decodeURIComponent(new URL(again.url).password)).toBe(password);
      expect(await canConnect(again.url)).toBe(true);
    } finally {
      await again.stop();
    }
    const other = await startEmbeddedPostgres({ dataDir: dataDir(), database: "crm", ephemeral: true });
    try {
      expect(decodeURIComponent(new URL(other.url).password)).not.toBe(password);
    } finally {
      await other.stop();
    }
  });

  it("replaces the published password of a cluster made before this change", async () => {
    const dir = dataDir();
    const made = await startEmbeddedPostgres({ dataDir: dir, database: "crm" });
    // Turn it into what an older checkout left behind: the published password, no password file.
    const client = new pg.Client({ connectionString: made.url });
    await client.connect();
    await client.query(`ALTER USER postgres PASSWORD '${LEGACY_PASSWORD}'`);
    await client.end();
    await made.stop();
    await rm(path.join(dir, PASSWORD_FILE));

    const upgraded = await startEmbeddedPostgres({ dataDir: dir, database: "crm" });
    try {
      expect(decodeURIComponent(new URL(upgraded.url).password)).not.toBe(LEGACY_PASSWORD);
      expect(await canConnect(upgraded.url)).toBe(true);
      expect(await canConnect(withPassword(upgraded.url, LEGACY_PASSWORD))).toBe(false);
    } finally {
      await upgraded.stop();
    }
  });
});

describe("stopping a throw-away cluster", () => {
  // A signal to the process group (Playwright stopping its web server, Ctrl-C) reaches
  // PostgreSQL before our stop(): that stop must still finish and delete the data, which
  // holds tokens, instead of waiting for an exit that has already happened.
  it("deletes its data when PostgreSQL was already stopped by a signal of its own", async () => {
    const dir = dataDir();
    const db = await startEmbeddedPostgres({ dataDir: dir, database: "crm", ephemeral: true });
    const pid = Number((await readFile(path.join(dir, "postmaster.pid"), "utf8")).split("\n")[0]);
    process.kill(pid, "SIGINT");
    await expect.poll(() => canConnect(db.url), { timeout: 30_000 }).toBe(false);
    await expect.poll(() => existsSync(path.join(dir, "postmaster.pid")), { timeout: 30_000 }).toBe(false);

    await db.stop();
    expect(existsSync(dir)).toBe(false);
  });

  it("deletes its data when the whole process group is sent SIGTERM, as Playwright stops a web server", async () => {
    const dir = dataDir();
    const holder = path.join(path.dirname(dir), "holder.mts");
    await writeFile(
      holder,
      `import { startEmbeddedPostgres } from ${JSON.stringify(path.join(import.meta.dirname, "embedded-postgres.ts"))};
      await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dir)}, database: "crm", ephemeral: true });
      console.log("started");
      setInterval(() => {}, 1000);`,
    );
    // Node itself, with tsx as a loader: the tsx CLI relays a signal and SIGKILLs a child that has
    // not acknowledged it in time, which cut the deletion short in about 3 runs in 8.
    const child = spawn(process.execPath, ["--import", "tsx", holder], {
      detached: true,
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (chunk: Buffer) => chunk.includes("started") && resolve());
      child.once("exit", (code) => reject(new Error(`the holder exited (${code}) before its cluster started`)));
    });
    expect(existsSync(path.join(dir, "PG_VERSION"))).toBe(true);

    // tsx relays the signal and may exit, closing the output, before the script it runs has
    // finished stopping its server and deleting the data: wait for the deletion itself.
    process.kill(-child.pid!, "SIGTERM");
    await expect.poll(() => existsSync(dir), { timeout: 30_000 }).toBe(false);
  });
});
