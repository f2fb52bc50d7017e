import http from "node:http";

import pg from "pg";

import { sameSecret } from "../lib/crypto.ts";
import { stateKey, verifyState } from "../lib/pipedrive/connect/state.ts";

// The callback benchmark's baseline: the same database work and the same calls to Pipedrive
// as our callback, on bare node:http + pg, with no framework, no Auth.js and no validation
// beyond what the work needs. The session is a plain "userId:tenantId" cookie.

const port = Number(process.env.BASELINE_PORT);
const oauthBase = process.env.PIPEDRIVE_OAUTH_BASE_URL!;
const basic = `Basic ${Buffer.from(`${process.env.PIPEDRIVE_CLIENT_ID}:${process.env.PIPEDRIVE_CLIENT_SECRET}`).toString("base64")}`;
const redirectUri = `http://localhost:${port}/callback`;
const key = stateKey(process.env.AUTH_SECRET!);
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });

type TokenAnswer = {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  scope: string;
  api_domain: string;
};
type Me = { data: { id: number; name: string; company_id: number; company_name: string; company_domain: string } };

function cookies(header = "") {
  return Object.fromEntries(header.split(/;\s*/).map((pair) => pair.split("=") as [string, string]));
}

http
  .createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", `http://localhost:${port}`);
    if (url.pathname === "/health") return res.end("ok");
    const redirect = (outcome: string) =>
      res.writeHead(302, { Location: `/settings/integrations?pipedrive=${outcome}` }).end();
    try {
      const jar = cookies(req.headers.cookie);
      const [userId, tenantId] = (jar.session ?? "").split(":");
      const state = url.searchParams.get("state") ?? "";
      const code = url.searchParams.get("code") ?? "";
      const nonceHash = verifyState(key, state);
      if (!nonceHash || !jar.pd_oauth_state || !sameSecret(jar.pd_oauth_state, state)) {
        console.error("[baseline] state refused");
        return redirect("error");
      }
      const user = await pool.query(`SELECT id, name, role FROM users WHERE id = $1 AND tenant_id = $2`, [
        userId,
        tenantId,
      ]);
      if (!user.rowCount) return redirect("error");
      const claimed = await pool.query(
        `UPDATE pipedrive_oauth_states SET consumed_at = now() WHERE nonce_hash = $1 AND tenant_id = $2 AND user_id = $3 AND consumed_at IS NULL RETURNING expires_at`,
        [nonceHash, tenantId, userId],
      );
      if (!claimed.rowCount) return redirect("error");
      const tokenAnswer = await fetch(`${oauthBase}/oauth/token`, {
        method: "POST",
        headers: { Authorization: basic, "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: redirectUri }),
      });
      const tokens = (await tokenAnswer.json()) as TokenAnswer;
      // The same work as ours: a bare host, spoken to over http because it is the local mock.
      const host = new URL(tokens.api_domain).host;
      const meAnswer = await fetch(`http://${host}/api/v1/users/me`, {
        headers: { Authorization: `Bearer ${tokens.access_token}` },
      });
      const me = ((await meAnswer.json()) as Me).data;
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        await client.query(
          `INSERT INTO lead_pipedrive_integrations (tenant_id, access_token, refresh_token, expires_at, api_domain)
           VALUES ($1, $2, $3, now() + make_interval(secs => $4), $5)
           ON CONFLICT (tenant_id) DO UPDATE SET access_token = EXCLUDED.access_token, refresh_token = EXCLUDED.refresh_token,
             expires_at = EXCLUDED.expires_at, api_domain = EXCLUDED.api_domain`,
          [tenantId, tokens.access_token, tokens.refresh_token, tokens.expires_in, host],
        );
        await client.query(
          `INSERT INTO pipedrive_connections (tenant_id, status, company_id, company_name, company_domain, pipedrive_user_id, pipedrive_user_name, scopes, connected_by_user_id, connected_by_name, connected_at)
           VALUES ($1, 'connected', $2, $3, $4, $5, $6, $7, $8, $9, now())
           ON CONFLICT (tenant_id) DO UPDATE SET status = 'connected', company_id = EXCLUDED.company_id, company_name = EXCLUDED.company_name,
             company_domain = EXCLUDED.company_domain, pipedrive_user_id = EXCLUDED.pipedrive_user_id, pipedrive_user_name = EXCLUDED.pipedrive_user_name,
             scopes = EXCLUDED.scopes, connected_by_user_id = EXCLUDED.connected_by_user_id, connected_by_name = EXCLUDED.connected_by_name,
             connected_at = now(), last_error = NULL, last_error_at = NULL, updated_at = now()`,
          [
            tenantId,
            me.company_id,
            me.company_name,
            me.company_domain,
            me.id,
            me.name,
            tokens.scope.split(","),
            userId,
            user.rows[0].name,
          ],
        );
        await client.query(
          `INSERT INTO pipedrive_audit_events (tenant_id, actor_user_id, event, detail) VALUES ($1, $2, 'connected', $3)`,
          [tenantId, userId, JSON.stringify({ companyId: me.company_id })],
        );
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      } finally {
        client.release();
      }
      redirect("connected");
    } catch (error) {
      console.error(`[baseline] ${error instanceof Error ? error.message : String(error)}`);
      redirect("error");
    }
  })
  .listen(port, "127.0.0.1");
