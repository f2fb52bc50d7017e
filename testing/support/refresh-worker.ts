import { db, sql } from "../../lib/db.ts";
import { createPipedriveContext } from "../../lib/pipedrive/context.ts";
import { getValidAccessToken } from "../../lib/pipedrive/tokens/access.ts";
import { ROUTES } from "../../lib/routes.ts";

// One process of a multi-process refresh race (tests and benchmarks): N concurrent callers
// ask for the same tenant's token; prints what each got (and how long it waited) as JSON.
const [tenantId, callers, oauthBaseUrl, mockHost] = process.argv.slice(2);
if (!tenantId || !callers || !oauthBaseUrl || !mockHost) {
  console.error("usage: refresh-worker <tenantId> <callers> <oauthBaseUrl> <mockHost>");
  process.exit(2);
}
const ctx = createPipedriveContext({
  oauthBaseUrl,
  clientId: "mock-client-id",
  clientSecret: "mock-client-secret",
  redirectUri: `http://localhost:3000${ROUTES.callback}`,
  mockHost,
  authSecret: "unused-in-this-process-unused-in-this-process",
  // As in the other suites: a refusal is judged at once (the grace period has tests of its own).
  verdictGraceMs: 0,
});
// Warm the connection pool and Prisma's query engine first, so waits measure the race only.
await sql().query("SELECT 1");
await db().$transaction((tx) => tx.$queryRaw`SELECT 1 FOR UPDATE`.catch(() => null));
// Start together: wait for the parent's go signal on stdin.
process.stdin.once("data", async () => {
  const results = await Promise.all(
    Array.from({ length: Number(callers) }, async () => {
      const started = performance.now();
      try {
        const token = await getValidAccessToken(ctx, tenantId);
        return { ok: true, accessToken: token.accessToken, waitMs: performance.now() - started };
      } catch (error) {
        return {
          ok: false,
          error: error instanceof Error ? error.message : String(error),
          waitMs: performance.now() - started,
        };
      }
    }),
  );
  process.stdout.write(JSON.stringify(results));
  process.exit(0);
});
process.stdout.write("ready\n");
