import { migrate } from "../lib/db-migrate.ts";
import { resolveDatabase } from "./support/local-env.ts";

// `npm run db:migrate`: applies pending migrations to DATABASE_URL or the embedded database.
const { url, embedded } = await resolveDatabase();
try {
  const result = await migrate(url);
  console.log(`[db] ${result.applied.length} migration(s) applied${result.applied.length ? `: ${result.applied.join(", ")}` : ""}; ${result.alreadyApplied} already applied`);
} catch (error) {
  console.error(`[db] migration failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await embedded?.stop();
}
// tsx does not pass process.exitCode on; exit explicitly.
process.exit(process.exitCode ?? 0);
