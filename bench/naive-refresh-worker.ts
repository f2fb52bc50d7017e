import pg from "pg";

// The stampede benchmark's baseline: read, check, refresh, write, with no lock, the way the
// lead-enrichment service does today. N callers in this process; prints each outcome as JSON.
const [databaseUrl, tenantId, callers, oauthBaseUrl] = process.argv.slice(2);
const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
const basic = `Basic ${Buffer.from("mock-client-id:mock-client-secret").toString("base64")}`;

async function getToken() {
  const started = performance.now();
  const { rows } = await pool.query<{ access_token: string; refresh_token: string; expires_at: Date }>(
    `SELECT access_token, refresh_token, expires_at FROM lead_pipedrive_integrations WHERE tenant_id = $1`,
    [tenantId],
  );
  const row = rows[0]!;
  if (row.expires_at.getTime() > Date.now() + 300_000)
    return { ok: true, accessToken: row.access_token, waitMs: performance.now() - started };
  const answer = await fetch(`${oauthBaseUrl}/oauth/token`, {
    method: "POST",
    headers: { Authorization: basic, "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: row.refresh_token }),
  });
  if (!answer.ok) return { ok: false, error: `HTTP ${answer.status}`, waitMs: performance.now() - started };
  const tokens = (await answer.json()) as { access_token: string; refresh_token: string; expires_in: number };
  await pool.query(
    `UPDATE lead_pipedrive_integrations SET access_token = $2, refresh_token = $3, expires_at = now() + make_interval(secs => $4) WHERE tenant_id = $1`,
    [tenantId, tokens.access_token, tokens.refresh_token, tokens.expires_in],
  );
  return { ok: true, accessToken: tokens.access_token, waitMs: performance.now() - started };
}

await pool.query("SELECT 1"); // warm, as the other side's worker does

process.stdin.once("data", async () => {
  const results = await Promise.all(Array.from({ length: Number(callers) }, getToken));
  process.stdout.write(JSON.stringify(results));
  await pool.end();
  process.exit(0);
});
process.stdout.write("ready\n");
