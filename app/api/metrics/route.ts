// Prometheus metrics for operators: Authorization: Bearer $METRICS_TOKEN (README, Operations).
import { env } from "@/lib/env.ts";
import { NO_STORE } from "@/lib/http/responses.ts";
import { metricsAccess, metricsText } from "@/lib/metrics/metrics.ts";

export const dynamic = "force-dynamic";

export async function GET(request: Request) {
  const access = metricsAccess(env(), request.headers.get("authorization"));
  if (access === "unauthorized")
    return Response.json(
      { error: { code: "unauthorized" } },
      { status: 401, headers: { ...NO_STORE, "WWW-Authenticate": 'Bearer realm="metrics"' } },
    );
  if (access === "not_configured")
    return Response.json(
      { error: { code: "metrics_token_not_set", message: "Set METRICS_TOKEN to read metrics." } },
      { status: 403, headers: NO_STORE },
    );
  const { text, contentType } = await metricsText();
  return new Response(text, { headers: { ...NO_STORE, "Content-Type": contentType } });
}
