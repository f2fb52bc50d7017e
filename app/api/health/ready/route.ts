// Readiness for load balancers: database reachable, migrations applied, keeper alive. 503 otherwise.
import { cachedReadiness } from "@/lib/health.ts";

export const dynamic = "force-dynamic";

export async function GET() {
  // Shared for a few seconds: anonymous probes must not cost every page view its database time.
  const result = await cachedReadiness(new Date());
  return Response.json(
    { status: result.ready ? "ready" : "not_ready", ...result.checks },
    { status: result.ready ? 200 : 503, headers: { "Cache-Control": "no-store" } },
  );
}
