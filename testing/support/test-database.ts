import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import pg from "pg";
import type { TestProject } from "vitest/node";

import { migrate } from "../../lib/db-migrate.ts";
import { startEmbeddedPostgres } from "../../scripts/support/embedded-postgres.ts";

// Vitest global setup: one throw-away, migrated database for the run. With DATABASE_URL set,
// a fresh database on that server (dropped afterwards); otherwise a fresh embedded cluster.
// Tests that need more databases of their own use scratchDatabases(): whatever happens, a run
// leaves the server with the databases it found.

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

export default async function setup(project: TestProject) {
  if (process.env.DATABASE_URL) {
    const server = process.env.DATABASE_URL;
    const { url, drop } = await createScratchDatabase(server, "crm_test");
    try {
      await prepareForTests(url);
    } catch (error) {
      await drop();
      throw error;
    }
    project.provide("databaseUrl", url);
    return drop;
  }
  const db = await startEmbeddedPostgres({
    dataDir: mkdtempSync(path.join(tmpdir(), "crm-test-pg-")),
    database: "crm_test",
    ephemeral: true,
  });
  await prepareForTests(db.url);
  project.provide("databaseUrl", db.url);
  return () => db.stop();
}

/** Migrated; each file's mock Pipedrive is allowed by mockPipedriveForFile. */
export async function prepareForTests(url: string): Promise<void> {
  await migrate(url);
}

/** A new, uniquely named, empty database on the server `serverUrl` points at. */
export async function createScratchDatabase(
  serverUrl: string,
  prefix: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  await onServer(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () =>
      onServer(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}

async function onServer<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  // Connect to the maintenance database: the one in the URL may be the one being dropped.
  const admin = new URL(serverUrl);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
