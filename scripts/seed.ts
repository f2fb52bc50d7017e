import { migrate } from "../lib/db-migrate.ts";
import { appUrl, resolveDatabase } from "./support/local-env.ts";
import { demoCredentialsText, seed } from "./support/seed.ts";

// `npm run db:seed`: idempotent demo data (migrates first, so it works on an empty database).
const { url, embedded } = await resolveDatabase();
try {
  await migrate(url);
  const result = await seed(url);
  console.log(`[db] seed ${result.created ? "created the demo tenants" : "already present; demo users refreshed"}\n\n${demoCredentialsText(appUrl())}`);
} catch (error) {
  console.error(`[db] seed failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await embedded?.stop();
}
// tsx does not pass process.exitCode on; exit explicitly.
process.exit(process.exitCode ?? 0);
