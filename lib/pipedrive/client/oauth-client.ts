import "server-only";

import { describe } from "../../errors.ts";
import { log } from "../../log.ts";
import { allowedApiHost, type HostPolicy } from "./api-domain.ts";
import { basicAuth, PipedriveError, readJsonBody, readText, refusedFields, send, type Fetch } from "./http.ts";
import { oauthErrorAnswer, tokenAnswer } from "./schemas.ts";

export type OAuthClientOptions = {
  oauthBaseUrl: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  hosts: HostPolicy;
  fetch: Fetch;
  timeoutMs: number;
  /** Told whether Pipedrive accepted our client credentials, on every token-endpoint answer. */
  onClientCredentials?: (accepted: boolean) => Promise<void>;
};

/** A validated token answer: api host already checked and bare, expiry still relative. */
export type TokenSet = {
  accessToken: string;
  /** Refresh answers may omit it; the caller then keeps the one it has. */
  refreshToken: string | null;
  expiresInSeconds: number;
  /** What was granted; null when the answer did not say. */
  scopes: string[] | null;
  /** Refresh answers may omit api_domain; the caller then keeps the stored host. */
  apiHost: string | null;
};

export type OAuthClient = ReturnType<typeof createOAuthClient>;

const INTERACTIVE_TIMEOUT_MS = 5_000;

/** A token answer is a few hundred bytes; an error body, a sentence. */
const MAX_TOKEN_ANSWER_BYTES = 16 * 1024;
const MAX_ERROR_BYTES = 4 * 1024;

/** What may still be live in an answer we refused: to give back, never to use. */
export type StrayGrant = { accessToken: string | null; refreshToken: string | null; apiHost: string | null };

/**
 * A token answer we refuse that may still carry a live grant. The grant is kept in a private
 * field, so no logger or serializer ever sees it; only the code that gives it back takes it.
 */
export class RefusedTokenAnswer extends PipedriveError {
  readonly #stray: StrayGrant;
  constructor(message: string, body: unknown, apiHost: string | null) {
    super("malformed", message);
    const field = (name: string) => {
      const value = body && typeof body === "object" ? (body as { [key: string]: unknown })[name] : undefined;
      return typeof value === "string" && value.length > 0 && value.length <= 4096 ? value : null;
    };
    this.#stray = {
      accessToken: field("access_token") ?? field("accessToken"),
      refreshToken: field("refresh_token") ?? field("refreshToken"),
      apiHost,
    };
  }
  strayGrant(): StrayGrant {
    return this.#stray;
  }
}

export function createOAuthClient(options: OAuthClientOptions) {
  const clientAuth = basicAuth(options.clientId, options.clientSecret);

  // Someone waits on the consent page's redirect while we exchange a code: a few seconds at most.
  // Refreshes (the keeper's included) keep the full timeout.
  const interactiveTimeoutMs = Math.min(options.timeoutMs, INTERACTIVE_TIMEOUT_MS);

  async function tokenRequest(
    form: Record<string, string>,
    what: string,
    timeoutMs = options.timeoutMs,
  ): Promise<TokenSet> {
    const response = await send(
      options.fetch,
      `${options.oauthBaseUrl}/oauth/token`,
      {
        method: "POST",
        headers: {
          Authorization: clientAuth,
          "Content-Type": "application/x-www-form-urlencoded",
          Accept: "application/json",
        },
        body: new URLSearchParams(form),
      },
      timeoutMs,
      what,
    );
    if (!response.ok) throw await reported(await failure(response, what));
    // The answer is read before the report is made: a report waiting on a busy pool must not let
    // the call's timeout cut off the tokens it reports on.
    const body = await readJsonBody(response, what, MAX_TOKEN_ANSWER_BYTES);
    await tell(true);
    const parsed = tokenAnswer.safeParse(body);
    if (!parsed.success) {
      // Whose grant it is can still be asked of its company's API, if the answer named an allowed one.
      const domain = body && typeof body === "object" && "api_domain" in body ? body.api_domain : undefined;
      const host = typeof domain === "string" ? allowedApiHost(domain, options.hosts) : null;
      throw new RefusedTokenAnswer(`${what}: unexpected answer (fields: ${refusedFields(parsed.error)})`, body, host);
    }
    const answer = parsed.data;
    const apiHost = answer.api_domain === undefined ? null : allowedApiHost(answer.api_domain, options.hosts);
    if (answer.api_domain !== undefined && !apiHost)
      throw new RefusedTokenAnswer(`${what}: api_domain is not an allowed Pipedrive host`, body, null);
    return {
      accessToken: answer.access_token,
      refreshToken: answer.refresh_token ?? null,
      expiresInSeconds: answer.expires_in,
      scopes:
        answer.scope === undefined
          ? null
          : answer.scope
              .split(",")
              .map((s) => s.trim())
              .filter(Boolean),
      apiHost,
    };
  }

  return {
    authorizeUrl(state: string, codeChallenge: string | null): string {
      const url = new URL(`${options.oauthBaseUrl}/oauth/authorize`);
      url.searchParams.set("client_id", options.clientId);
      url.searchParams.set("redirect_uri", options.redirectUri);
      url.searchParams.set("state", state);
      if (codeChallenge) {
        url.searchParams.set("code_challenge", codeChallenge);
        url.searchParams.set("code_challenge_method", "S256");
      }
      return url.toString();
    },

    async exchangeCode(
      code: string,
      codeVerifier: string | null,
    ): Promise<TokenSet & { refreshToken: string; apiHost: string }> {
      const tokens = await tokenRequest(
        {
          grant_type: "authorization_code",
          code,
          redirect_uri: options.redirectUri,
          ...(codeVerifier ? { code_verifier: codeVerifier } : {}),
        },
        "token exchange",
        interactiveTimeoutMs,
      );
      if (!tokens.refreshToken)
        throw new RefusedTokenAnswer("token exchange: answer has no refresh_token", tokens, tokens.apiHost);
      // A new grant must say where its company's API lives; only a refresh may leave it out.
      if (!tokens.apiHost) throw new RefusedTokenAnswer("token exchange: answer has no api_domain", tokens, null);
      return { ...tokens, refreshToken: tokens.refreshToken, apiHost: tokens.apiHost };
    },

    refresh(refreshToken: string): Promise<TokenSet> {
      return tokenRequest({ grant_type: "refresh_token", refresh_token: refreshToken }, "token refresh");
    },

    /**
     * RFC 7009. Revoking a refresh token uninstalls the app for that Pipedrive user and company;
     * an access token is only that token.
     */
    async revoke(token: string, kind: "refresh_token" | "access_token" = "refresh_token"): Promise<void> {
      const response = await send(
        options.fetch,
        `${options.oauthBaseUrl}/oauth/revoke`,
        {
          method: "POST",
          headers: { Authorization: clientAuth, "Content-Type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ token, token_type_hint: kind }),
        },
        options.timeoutMs,
        "token revoke",
      );
      if (!response.ok) throw await reported(await failure(response, "token revoke"));
    },
  };

  /** A rejection of our own credentials is the operators' problem: tell them, then fail as usual. */
  async function reported(error: PipedriveError): Promise<PipedriveError> {
    if (error.kind === "invalid_client") await tell(false);
    return error;
  }

  // Reporting must never cost a token: a refresh answer we fail to save is a grant lost.
  async function tell(accepted: boolean) {
    try {
      await options.onClientCredentials?.(accepted);
    } catch (error) {
      log().error({ error: describe(error) }, "could not record whether Pipedrive accepted our client credentials");
    }
  }
}

async function failure(response: Response, what: string): Promise<PipedriveError> {
  const status = response.status;
  if (status >= 500) return new PipedriveError("unavailable", `${what}: HTTP ${status}`, { status });
  const kind = classifyTokenError(status, await readText(response, what, MAX_ERROR_BYTES).catch(() => ""));
  if (kind === "invalid_grant") return new PipedriveError("invalid_grant", `${what}: invalid_grant`, { status });
  if (kind === "invalid_client")
    return new PipedriveError("invalid_client", `${what}: invalid_client (HTTP ${status})`, { status });
  return new PipedriveError("rejected", `${what}: HTTP ${status}`, { status });
}

/**
 * Pipedrive documents its token errors as text ("Invalid grant: refresh_token is invalid"),
 * not their JSON shape: an OAuth `error` code (RFC 6749 §5.2) is believed over anything else in
 * the answer; only without one are Pipedrive's API `error` message or the plain body read. A 401
 * from the token endpoint is client authentication failing (RFC 6749 §5.2).
 */
export function classifyTokenError(status: number, body: string): "invalid_grant" | "invalid_client" | "other" {
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(body);
  } catch {
    // plain text
  }
  const fields = oauthErrorAnswer.safeParse(parsed);
  const code = fields.success && /^[a-z_]{1,64}$/.test(fields.data.error) ? fields.data.error : null;
  if (code === "invalid_client" || code === "invalid_grant") return code;
  if (code === null) {
    const text = fields.success
      ? [fields.data.error, fields.data.error_description ?? "", fields.data.message ?? ""].join(" ")
      : body.slice(0, 500);
    if (/invalid[ _]client|client authentication failed/i.test(text)) return "invalid_client";
    if (/invalid[ _]grant/i.test(text)) return "invalid_grant";
  }
  return status === 401 ? "invalid_client" : "other";
}
