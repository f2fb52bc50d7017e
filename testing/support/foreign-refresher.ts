import pg from "pg";

// The lead-enrichment service's token code, as measured (docs/shared-table.md): it selects the
// row by tenant, refreshes when fewer than 5 minutes are left, sends the client credentials in
// the form body, takes no lock, and writes the whole answer back, api_domain with its https://.
// Tests and benchmarks race it against ours; it is deliberately not our code.

export type ForeignResult = { refreshed: boolean; accessToken: string | null; error: string | null };

const THRESHOLD_MS = 5 * 60_000;

export function createForeignRefresher(options: {
  databaseUrl: string;
  oauthBaseUrl: string;
  clientId: string;
  clientSecret: string;
}) {
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 4 });

  async function getToken(tenantId: string): Promise<ForeignResult> {
    const { rows } = await pool.query<{ access_token: string; refresh_token: string; expires_at: Date }>(
      `SELECT access_token, refresh_token, expires_at FROM lead_pipedrive_integrations WHERE tenant_id = $1`,
      [tenantId],
    );
    const row = rows[0];
    if (!row) return { refreshed: false, accessToken: null, error: "no row" };
    if (row.expires_at.getTime() >= Date.now() + THRESHOLD_MS)
      return { refreshed: false, accessToken: row.access_token, error: null };
    const response = await fetch(`${options.oauthBaseUrl}/oauth/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: row.refresh_token,
        client_id: options.clientId,
        client_secret: options.clientSecret,
      }),
    });
    const answer = (await response.json()) as {
      access_token?: string;
      refresh_token?: string;
      expires_in?: number;
      api_domain?: string;
      error?: string;
    };
    if (!response.ok || !answer.access_token)
      return { refreshed: true, accessToken: null, error: answer.error ?? `HTTP ${response.status}` };
    await pool.query(
      // A refresh answer may lack api_domain (Pipedrive documents it); what their code writes
      // then is unknown, so the stored one stays.
      `UPDATE lead_pipedrive_integrations SET access_token = $2, refresh_token = $3, expires_at = $4, api_domain = COALESCE($5, api_domain) WHERE tenant_id = $1`,
      [
        tenantId,
        answer.access_token,
        answer.refresh_token,
        new Date(Date.now() + (answer.expires_in ?? 3600) * 1000),
        answer.api_domain,
      ],
    );
    return { refreshed: true, accessToken: answer.access_token, error: null };
  }

  return { getToken, close: () => pool.end() };
}
