import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { migrate } from "../../lib/db-migrate.ts";
import { startEmbeddedPostgres } from "./embedded-postgres.ts";

// Vitest global setup: one throw-away, migrated database for the run. With DATABASE_URL set,
// a fresh database on that server (dropped afterwards); otherwise a fresh embedded cluster.

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

export default async function setup(project: TestProject) {
  if (process.env.DATABASE_URL) {
    const server = new URL(process.env.DATABASE_URL);
    const name = `crm_test_${randomBytes(6).toString("hex")}`;
    const admin = new pg.Client({ connectionString: server.toString() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(server);
    url.pathname = `/${name}`;
    await migrate(url.toString());
    project.provide("databaseUrl", url.toString());
    return async () => {
      const client = new pg.Client({ connectionString: server.toString() });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    };
  }
  const db = await startEmbeddedPostgres({ dataDir: mkdtempSync(path.join(tmpdir(), "crm-test-pg-")), database: "crm_test", ephemeral: true });
  await migrate(db.url);
  project.provide("databaseUrl", db.url);
  return () => db.stop();
}
