import { migrate } from "../lib/db-migrate.ts";
import { appUrl, runOnDatabase } from "./support/local-env.ts";
import { demoCredentialsText, seed } from "./support/seed.ts";

// `npm run db:seed`: idempotent demo data (migrates first, so it works on an empty database).
await runOnDatabase("seed", async (url) => {
  await migrate(url);
  const result = await seed(url);
  console.log(
    `[db] seed ${result.created ? "created the demo tenants" : "already present; demo users refreshed"}\n\n${demoCredentialsText(appUrl())}`,
  );
});
