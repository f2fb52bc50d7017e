import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

import { delay, endless, html, json, stalled } from "./http.ts";
import { newToken, type ClientAuthStyle, type Faults, type Install, type TokenFault } from "./model.ts";
import type { MockState } from "./state.ts";

// Pipedrive's token and revoke endpoints: client auth (Basic or form body), single-use codes,
// the install model, and the token faults a test can ask for.

type Record = (req: IncomingMessage, path: string, status: number, grantType?: string, auth?: ClientAuthStyle) => void;

export function oauthEndpoints(
  state: MockState,
  app: { clientId: string; clientSecret: string; apiDomain: string },
  record: Record,
) {
  const s = state.s;

  /** A token endpoint error, in the shape the profile (or the test) asks for. */
  function oauthError(res: ServerResponse, status: number, code: string, description: string) {
    const shape = s.behaviour.errorShape ?? (s.behaviour.profile === "strict" ? "text" : "oauth-json");
    if (shape === "text")
      return void res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8" }).end(description);
    if (shape === "api-json") {
      return json(res, status, {
        success: false,
        error: description,
        error_info: "Please check developers.pipedrive.com",
        data: null,
        errorCode: status,
      });
    }
    return json(res, status, { error: code, error_description: description });
  }

  /** Pipedrive accepts the app's credentials as HTTP Basic (recommended) or in the form body. */
  function clientAuth(req: IncomingMessage, form: URLSearchParams): ClientAuthStyle | null {
    const expected = `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString("base64")}`;
    if (req.headers.authorization !== undefined) return req.headers.authorization === expected ? "basic" : null;
    return form.get("client_id") === app.clientId && form.get("client_secret") === app.clientSecret ? "body" : null;
  }

  function tokenAnswer(install: Install, accessToken: string, grantType: string) {
    return {
      access_token: accessToken,
      token_type: "Bearer",
      expires_in: s.tokenLifetimeSeconds,
      refresh_token: install.refreshToken,
      scope: install.scopes.join(","),
      // Pipedrive documents refresh answers without it.
      ...(s.behaviour.profile === "strict" && grantType === "refresh_token" ? {} : { api_domain: app.apiDomain }),
    };
  }

  function faultAnswer(res: ServerResponse, mode: NonNullable<Faults["token"]>["mode"]) {
    switch (mode) {
      case "500":
        return json(res, 500, { error: "server_error" });
      case "timeout":
        return; // never answered; the client's timeout has to fire
      case "html":
        return html(res, 200, "<html><body>Service temporarily unavailable</body></html>");
      case "malformed":
        return void res.writeHead(200, { "Content-Type": "application/json" }).end('{"access_token": "trunc');
      case "invalid_grant":
        return oauthError(res, 400, "invalid_grant", "Invalid grant: refresh_token is invalid");
      default: {
        // A live grant in a shape we must refuse: the client should revoke what it can.
        const base = {
          access_token: newToken("mock_at_bad", state.world),
          token_type: "Bearer",
          expires_in: 3600,
          refresh_token: newToken("mock_rt_bad", state.world),
          scope: "base",
          api_domain: app.apiDomain,
        };
        s.issued.push(base.access_token, base.refresh_token);
        if (mode === "bad_api_domain") return json(res, 200, { ...base, api_domain: "https://evil.example" });
        if (mode === "no_refresh_token") return json(res, 200, { ...base, refresh_token: undefined });
        return json(res, 200, { ...base, expires_in: "3600 seconds" });
      }
    }
  }

  function reshaped(real: { [field: string]: unknown }, mode: TokenFault): { [field: string]: unknown } {
    if (mode === "bad_api_domain") return { ...real, api_domain: "https://evil.example" };
    if (mode === "string_expires_in") return { ...real, expires_in: `${String(real.expires_in)} seconds` };
    if (mode === "no_refresh_token") return { ...real, refresh_token: undefined };
    throw new Error(`a live token fault cannot be ${mode}`);
  }

  function takeTokenFault(grantType: string) {
    const fault = s.faults.token;
    if (!fault || (fault.grant && fault.grant !== grantType)) return undefined;
    if (fault.times !== undefined && --fault.times <= 0) delete s.faults.token;
    return fault;
  }

  async function token(req: IncomingMessage, res: ServerResponse, body: string) {
    const path = "/oauth/token";
    const form = new URLSearchParams(body);
    const grantType = form.get("grant_type") ?? "";
    if (s.faults.holdTokenRequests) await new Promise<void>((resolve) => s.held.push(resolve));
    if (s.faults.tokenLatencyMs) await delay(s.faults.tokenLatencyMs);
    const style = clientAuth(req, form) ?? undefined;
    const replyDelay = style ? (s.faults.tokenReplyDelayMs?.[style] ?? 0) : 0;
    const send = (status: number, write: () => void) => {
      record(req, path, status, grantType, style);
      const reply = () => (replyDelay ? setTimeout(write, replyDelay) : write());
      if (style === "body" && s.faults.holdBodyRepliesForBasic) return void s.heldBodyReplies.push(reply);
      if (style === "basic") for (const release of s.heldBodyReplies.splice(0)) release();
      reply();
    };
    const answer = (status: number, payload: unknown) => send(status, () => json(res, status, payload));
    const refuse = (status: number, code: string, description: string) =>
      send(status, () => oauthError(res, status, code, description));
    if (!style) return refuse(401, "invalid_client", "Client authentication failed");
    if (!req.headers["content-type"]?.startsWith("application/x-www-form-urlencoded")) {
      return refuse(400, "invalid_request", "Body must be form-encoded");
    }
    if (s.faults.endlessAnswer === "token") return void (record(req, path, 200, grantType), endless(res));
    if (s.faults.stalledAnswer === "token") return void (record(req, path, 200, grantType), stalled(res));
    const fault = takeTokenFault(grantType);
    if (fault?.live && grantType === "authorization_code") {
      const code = state.takeCode(form.get("code") ?? "", form.get("redirect_uri"));
      if (code === "invalid") return refuse(400, "invalid_grant", "Invalid grant: authorization code is invalid");
      const { install, accessToken } = state.install(code);
      const real = tokenAnswer(install, accessToken, grantType);
      return answer(200, reshaped(real, fault.mode));
    }
    if (fault) {
      record(req, path, fault.mode === "timeout" ? 0 : fault.mode === "500" ? 500 : 200, grantType);
      return faultAnswer(res, fault.mode);
    }
    if (grantType === "authorization_code") {
      const code = state.takeCode(form.get("code") ?? "", form.get("redirect_uri"));
      if (code === "invalid") return refuse(400, "invalid_grant", "Invalid grant: authorization code is invalid");
      // A code issued with a PKCE challenge is only redeemed with its verifier.
      const verifier = form.get("code_verifier");
      if (
        code.challenge &&
        (!verifier || createHash("sha256").update(verifier).digest("base64url") !== code.challenge)
      ) {
        return refuse(400, "invalid_grant", "Invalid grant: code_verifier does not match");
      }
      const { install, accessToken } = state.install(code);
      return answer(200, tokenAnswer(install, accessToken, grantType));
    }
    if (grantType === "refresh_token") {
      const refreshed = state.refresh(form.get("refresh_token") ?? "");
      if (!refreshed) return refuse(400, "invalid_grant", "Invalid grant: refresh_token is invalid");
      return answer(200, tokenAnswer(refreshed.install, refreshed.accessToken, grantType));
    }
    return refuse(400, "unsupported_grant_type", "Unsupported grant type");
  }

  function revoke(req: IncomingMessage, res: ServerResponse, body: string) {
    const path = "/oauth/revoke";
    const form = new URLSearchParams(body);
    if (!clientAuth(req, form)) {
      record(req, path, 401);
      return json(res, 401, { error: "invalid_client" });
    }
    const fault = s.faults.revoke;
    if (fault) {
      if (fault.times !== undefined && --fault.times <= 0) delete s.faults.revoke;
      record(req, path, 500);
      return json(res, 500, { error: "server_error" });
    }
    state.revoke(form.get("token") ?? "");
    record(req, path, 200);
    res.writeHead(200).end();
  }

  return { token, revoke };
}
