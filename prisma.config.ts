import { defineConfig } from "prisma/config";

// Migrations are applied by scripts/migrate.ts (the CLI's migrate commands need a
// schema-engine download this project must not depend on). `prisma generate` only
// checks that this path exists, so pointing it at node itself keeps generate offline.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
process.env.CHECKPOINT_DISABLE ??= "1";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
});
