import { migrate } from "../lib/db-migrate.ts";
import { runOnDatabase } from "./support/local-env.ts";

// `npm run db:migrate`: applies pending migrations to DATABASE_URL or the embedded database.
await runOnDatabase("migration", async (url) => {
  const result = await migrate(url);
  console.log(
    `[db] ${result.applied.length} migration(s) applied${result.applied.length ? `: ${result.applied.join(", ")}` : ""}; ${result.alreadyApplied} already applied`,
  );
});
