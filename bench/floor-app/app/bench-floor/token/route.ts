// The benchmark's floor for the token endpoint: on the same Next server and pool, the one read a
// token endpoint cannot do without (the shared row, by tenant_id, as a prepared statement), and
// the same JSON answer, without the key, the per-key limit, the checks or the log line.
import { sql } from "@/lib/db.ts";
import { env } from "@/lib/env.ts";

export const dynamic = "force-dynamic";

export async function GET(request: Request): Promise<Response> {
  if (env().APP_URL.startsWith("https://")) return new Response(null, { status: 404 });
  const tenantId = new URL(request.url).searchParams.get("tenant_id");
  const { rows } = await sql().query<{ access_token: string; api_domain: string; expires_at: Date }>({
    name: "bench-floor-token",
    text: `SELECT access_token, api_domain, expires_at FROM lead_pipedrive_integrations WHERE tenant_id = $1::uuid`,
    values: [tenantId],
  });
  const row = rows[0];
  if (!row) return Response.json({ error: "not found" }, { status: 404 });
  return Response.json(
    { access_token: row.access_token, api_domain: row.api_domain, expires_at: row.expires_at.toISOString() },
    { headers: { "Cache-Control": "no-store" } },
  );
}
