import { createHash, randomBytes } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

// A local stand-in for Pipedrive's OAuth server and the bits of its API we use. It keeps
// Pipedrive's rules (Basic or form-body client auth, single-use 5-minute codes, rotating
// refresh tokens, invalid_grant on reuse, 401 on dead tokens, cursor pagination, 429 with
// Retry-After) and can be told to fail.
//
// Two profiles. "friendly" (the default, for demos) matches phones by their digits and sends
// rate-limit headers only under the searchRateLimit fault. "strict" is Pipedrive as strictly
// as its docs allow: literal exact matching, x-ratelimit-* on every API answer with a per-token
// 2-second burst window (10 for search) and a daily budget per company, refresh answers
// without api_domain, and token errors as plain text.

export type MockProfile = "friendly" | "strict";

/** The documented shapes of a token error: OAuth JSON, Pipedrive's API JSON, or plain text. */
export type ErrorShape = "oauth-json" | "api-json" | "text";

export type MockPerson = {
  id: number;
  name: string;
  phones: string[];
  emails: string[];
  organization: { id: number; name: string } | null;
};

export type TokenFault =
  | "500"
  | "timeout"
  | "malformed"
  | "html"
  | "invalid_grant"
  | "bad_api_domain"
  | "no_refresh_token"
  | "string_expires_in";

type Faults = {
  token?: { mode: TokenFault; grant?: "authorization_code" | "refresh_token"; times?: number };
  revoke?: { mode: "500"; times?: number };
  api401?: { times?: number };
  /** Added before every /oauth/token answer. */
  tokenLatencyMs?: number;
  /**
   * Added after a token request was decided (a refresh token is already rotated or refused),
   * before the answer leaves: per client-auth style, to stage races between two clients.
   */
  tokenReplyDelayMs?: Partial<Record<ClientAuthStyle, number>>;
  /** Token requests wait, unanswered, until releaseTokenRequests(): a Pipedrive that hangs, on cue. */
  holdTokenRequests?: boolean;
  /**
   * Answers to form-body clients (the lead-enrichment service) are decided at once but held
   * until a Basic client's (ours) token request has been decided too: the race where its
   * rotation reaches Pipedrive first and its write lands while our refresh is in flight.
   */
  holdBodyRepliesForBasic?: boolean;
  /** Added before every API answer. */
  apiLatencyMs?: number;
  searchRateLimit?: { limit: number; windowMs: number; retryAfterSeconds: number };
};

export type MockOptions = {
  port?: number;
  host?: string;
  clientId?: string;
  clientSecret?: string;
  redirectUris?: string[];
  tokenLifetimeSeconds?: number;
  /** How the mock names itself in token answers; defaults to https://localhost:<port>, a URL as Pipedrive sends it. */
  apiDomain?: string;
  persons?: MockPerson[];
  quiet?: boolean;
  profile?: MockProfile;
  /** Requests per company per day in the strict profile. */
  dailyBudget?: number;
};

type Strictness = { profile: MockProfile; errorShape: ErrorShape | null; dailyBudget: number };

const BURST = { windowMs: 2_000, general: 80, search: 10 };
const DEFAULT_DAILY_BUDGET = 10_000;

/** How a token request authenticated the app: Basic header (what we send) or form body. */
export type ClientAuthStyle = "basic" | "body";

export type RecordedRequest = {
  method: string;
  path: string;
  grantType?: string;
  clientAuth?: ClientAuthStyle;
  status: number;
  time: string;
};

type Grant = { refreshToken: string; accessTokens: Set<string>; revoked: boolean };

export const DEFAULT_PERSONS: MockPerson[] = [
  {
    id: 101,
    name: "Ana Souza",
    phones: ["+55 11 99999-0001"],
    emails: ["ana@acme.example"],
    organization: { id: 11, name: "Acme Brasil" },
  },
  { id: 102, name: "Bruno Lima", phones: ["(11) 98888-0002", "+55 11 3333-0002"], emails: [], organization: null },
  {
    id: 103,
    name: "Carla Dias",
    phones: ["+1 415 555 0103"],
    emails: ["carla@example.com"],
    organization: { id: 12, name: "Dias Consulting" },
  },
];

export const MOCK_COMPANY = { id: 7001, name: "Acme Mock Company", domain: "acme-mock" };
export const MOCK_USER = { id: 9001, name: "Pat Pipedrive" };

export async function startMockPipedrive(options: MockOptions = {}) {
  const clientId = options.clientId ?? "mock-client-id";
  const clientSecret = options.clientSecret ?? "mock-client-secret";
  const host = options.host ?? "127.0.0.1";

  const state = {
    redirectUris: new Set(options.redirectUris ?? []),
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3600,
    codes: new Map<string, { redirectUri: string; expiresAt: number; used: boolean; challenge?: string | null }>(),
    refreshTokens: new Map<string, { grant: Grant; used: boolean }>(),
    accessTokens: new Map<string, { grant: Grant; expiresAt: number }>(),
    issued: [] as string[],
    requests: [] as RecordedRequest[],
    faults: {} as Faults,
    persons: [...(options.persons ?? DEFAULT_PERSONS)],
    searchWindow: { start: 0, count: 0 },
    strictness: defaultStrictness(),
    burst: new Map<string, { start: number; general: number; search: number }>(),
    budget: { day: "", used: 0 },
    held: [] as (() => void)[],
    heldBodyReplies: [] as (() => void)[],
  };

  function defaultStrictness(): Strictness {
    return {
      profile: options.profile ?? "friendly",
      errorShape: null,
      dailyBudget: options.dailyBudget ?? DEFAULT_DAILY_BUDGET,
    };
  }
  const strict = () => state.strictness.profile === "strict";

  /** A token endpoint error, in the shape the profile (or the test) asks for. */
  function oauthError(res: ServerResponse, status: number, code: string, description: string) {
    const shape = state.strictness.errorShape ?? (strict() ? "text" : "oauth-json");
    if (shape === "text")
      return void res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8" }).end(description);
    if (shape === "api-json")
      return json(res, status, {
        success: false,
        error: description,
        error_info: "Please check developers.pipedrive.com",
        data: null,
        errorCode: status,
      });
    return json(res, status, { error: code, error_description: description });
  }

  /**
   * Pipedrive's rate limits, strict profile: a per-token burst window (lower for search) and a
   * daily budget for the company. Returns the headers every answer carries, or sends the 429.
   */
  function rateLimit(res: ServerResponse, accessToken: string, search: boolean): Record<string, string> | null {
    if (!strict()) return {};
    const now = Date.now();
    const day = new Date(now).toISOString().slice(0, 10);
    if (state.budget.day !== day) state.budget = { day, used: 0 };
    const untilMidnight = Math.ceil((Date.parse(`${day}T00:00:00Z`) + 86_400_000 - now) / 1000);
    if (state.budget.used >= state.strictness.dailyBudget) {
      res.writeHead(429, {
        "Content-Type": "application/json",
        "Retry-After": String(Math.min(3600, untilMidnight)),
        "x-daily-requests-left": "0",
      });
      res.end(JSON.stringify({ success: false, error: "Daily request budget exceeded", errorCode: 429 }));
      return null;
    }
    let window = state.burst.get(accessToken);
    if (!window || now - window.start >= BURST.windowMs)
      state.burst.set(accessToken, (window = { start: now, general: 0, search: 0 }));
    window.general += 1;
    if (search) window.search += 1;
    const limit = search ? BURST.search : BURST.general;
    const used = search ? window.search : window.general;
    const reset = Math.max(1, Math.ceil((window.start + BURST.windowMs - now) / 1000));
    const headers = {
      "x-ratelimit-limit": String(limit),
      "x-ratelimit-remaining": String(Math.max(0, limit - used)),
      "x-ratelimit-reset": String(reset),
      "x-daily-requests-left": String(state.strictness.dailyBudget - state.budget.used - 1),
    };
    if (used > limit) {
      res.writeHead(429, { ...headers, "Retry-After": String(reset), "Content-Type": "application/json" });
      res.end(JSON.stringify({ success: false, error: "Request over limit", errorCode: 429 }));
      return null;
    }
    state.budget.used += 1;
    return headers;
  }

  /** Exact phone match: digits only when friendly; the stored text, case-insensitively, when strict. */
  function phoneMatches(stored: string, term: string): boolean {
    if (strict()) return stored.trim().toLowerCase() === term.trim().toLowerCase();
    const digits = term.replace(/\D/g, "");
    return digits.length > 0 && (stored.replace(/\D/g, "") === digits || stored === term);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) json(res, 500, { success: false, error: String(error) });
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  const baseUrl = `http://localhost:${port}`;
  const apiDomain = options.apiDomain ?? `https://localhost:${port}`;

  const token = (prefix: string) => `${prefix}_${randomBytes(18).toString("base64url")}`;

  function record(
    req: IncomingMessage,
    path: string,
    status: number,
    grantType?: string,
    clientAuth?: ClientAuthStyle,
  ) {
    state.requests.push({
      method: req.method ?? "GET",
      path,
      grantType,
      clientAuth,
      status,
      time: new Date().toISOString(),
    });
  }

  function takeFault<K extends "token" | "revoke" | "api401">(kind: K, grantType?: string): Faults[K] | undefined {
    const fault = state.faults[kind];
    if (!fault) return undefined;
    if (kind === "token" && "grant" in fault && fault.grant && fault.grant !== grantType) return undefined;
    if (fault.times !== undefined) {
      fault.times -= 1;
      if (fault.times <= 0) delete state.faults[kind];
    }
    return fault;
  }

  function issueTokens(grant: Grant, grantType: string) {
    const accessToken = token("mock_at");
    const refreshToken = token("mock_rt");
    grant.refreshToken = refreshToken;
    grant.accessTokens.add(accessToken);
    state.accessTokens.set(accessToken, { grant, expiresAt: Date.now() + state.tokenLifetimeSeconds * 1000 });
    state.refreshTokens.set(refreshToken, { grant, used: false });
    state.issued.push(accessToken, refreshToken);
    return {
      access_token: accessToken,
      token_type: "Bearer",
      expires_in: state.tokenLifetimeSeconds,
      refresh_token: refreshToken,
      scope: "base,contacts:read",
      // Pipedrive documents refresh answers without it.
      ...(strict() && grantType === "refresh_token" ? {} : { api_domain: apiDomain }),
    };
  }

  /** Pipedrive accepts the app's credentials as HTTP Basic (recommended) or in the form body. */
  function clientAuth(req: IncomingMessage, form: URLSearchParams): ClientAuthStyle | null {
    const expected = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString("base64")}`;
    if (req.headers.authorization !== undefined) return req.headers.authorization === expected ? "basic" : null;
    return form.get("client_id") === clientId && form.get("client_secret") === clientSecret ? "body" : null;
  }

  function bearer(req: IncomingMessage) {
    const value = req.headers.authorization?.match(/^Bearer (.+)$/)?.[1];
    const entry = value ? state.accessTokens.get(value) : undefined;
    if (!value || !entry || entry.grant.revoked || entry.expiresAt <= Date.now()) return null;
    return { ...entry, token: value };
  }

  /** Back to how the mock started, but for the grants it issued: those stay valid. */
  function reset() {
    for (const release of state.held.splice(0)) release();
    for (const release of state.heldBodyReplies.splice(0)) release();
    state.requests = [];
    state.faults = {};
    state.strictness = defaultStrictness();
    state.burst.clear();
    state.budget = { day: "", used: 0 };
    state.persons = [...(options.persons ?? DEFAULT_PERSONS)];
    state.searchWindow = { start: 0, count: 0 };
    state.tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? 3600;
  }

  function configure(config: Partial<Strictness>) {
    if (config.profile) state.strictness.profile = config.profile;
    if (config.errorShape !== undefined) state.strictness.errorShape = config.errorShape;
    if (config.dailyBudget !== undefined) state.strictness.dailyBudget = config.dailyBudget;
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", baseUrl);
    const path = url.pathname;
    const body = await readBody(req);

    if (path === "/oauth/authorize" && req.method === "GET") {
      const q = url.searchParams;
      const redirectUri = q.get("redirect_uri") ?? "";
      if (q.get("client_id") !== clientId) {
        record(req, path, 400);
        return html(res, 400, page("Invalid client", "<p>This app is not known to Pipedrive (unknown client_id).</p>"));
      }
      if (!state.redirectUris.has(redirectUri)) {
        record(req, path, 400);
        return html(
          res,
          400,
          page("Invalid redirect", "<p>The redirect_uri does not match the one registered for this app.</p>"),
        );
      }
      record(req, path, 200);
      if (
        q.has("code_challenge") &&
        (q.get("code_challenge_method") !== "S256" || !/^[A-Za-z0-9_-]{43}$/.test(q.get("code_challenge") ?? ""))
      ) {
        record(req, path, 400);
        return html(res, 400, page("Invalid PKCE", "<p>Only an S256 code_challenge is accepted.</p>"));
      }
      const carried = ["state", "code_challenge"].filter((name) => q.has(name));
      const hidden = (decision: string) =>
        `<input type="hidden" name="decision" value="${decision}"><input type="hidden" name="redirect_uri" value="${escape(redirectUri)}">` +
        carried.map((name) => `<input type="hidden" name="${name}" value="${escape(q.get(name) ?? "")}">`).join("");
      return html(
        res,
        200,
        page(
          "Allow access to Pipedrive?",
          `<p>An app wants to read contacts in <strong>${escape(MOCK_COMPANY.name)}</strong> as ${escape(MOCK_USER.name)}.</p>
           <div class="actions">
             <form method="post" action="/oauth/authorize/decision">${hidden("allow")}<button type="submit">Allow</button></form>
             <form method="post" action="/oauth/authorize/decision">${hidden("deny")}<button type="submit" class="secondary">Deny</button></form>
           </div>`,
        ),
      );
    }

    if (path === "/oauth/authorize/decision" && req.method === "POST") {
      const form = new URLSearchParams(body);
      const redirectUri = form.get("redirect_uri") ?? "";
      if (!state.redirectUris.has(redirectUri))
        return html(res, 400, page("Invalid redirect", "<p>Unregistered redirect_uri.</p>"));
      const target = new URL(redirectUri);
      if (form.get("decision") === "allow") {
        const code = token("mock_code");
        state.codes.set(code, {
          redirectUri,
          expiresAt: Date.now() + 5 * 60_000,
          used: false,
          challenge: form.get("code_challenge"),
        });
        target.searchParams.set("code", code);
      } else {
        target.searchParams.set("error", "access_denied");
      }
      if (form.has("state")) target.searchParams.set("state", form.get("state") ?? "");
      record(req, path, 302);
      res.writeHead(302, { Location: target.toString() }).end();
      return;
    }

    if (path === "/oauth/token" && req.method === "POST") {
      const form = new URLSearchParams(body);
      const grantType = form.get("grant_type") ?? "";
      if (state.faults.holdTokenRequests) await new Promise<void>((resolve) => state.held.push(resolve));
      if (state.faults.tokenLatencyMs) await delay(state.faults.tokenLatencyMs);
      const style = clientAuth(req, form) ?? undefined;
      const replyDelay = style ? (state.faults.tokenReplyDelayMs?.[style] ?? 0) : 0;
      const send = (status: number, write: () => void) => {
        record(req, path, status, grantType, style);
        const reply = () => (replyDelay ? setTimeout(write, replyDelay) : write());
        if (style === "body" && state.faults.holdBodyRepliesForBasic) return void state.heldBodyReplies.push(reply);
        if (style === "basic") for (const release of state.heldBodyReplies.splice(0)) release();
        reply();
      };
      const answer = (status: number, payload: unknown) => send(status, () => json(res, status, payload));
      const refuse = (status: number, code: string, description: string) =>
        send(status, () => oauthError(res, status, code, description));
      if (!style) return refuse(401, "invalid_client", "Client authentication failed");
      if (!req.headers["content-type"]?.startsWith("application/x-www-form-urlencoded")) {
        return refuse(400, "invalid_request", "Body must be form-encoded");
      }
      const fault = takeFault("token", grantType);
      if (fault) {
        record(req, path, fault.mode === "timeout" ? 0 : fault.mode === "500" ? 500 : 200, grantType);
        switch (fault.mode) {
          case "500":
            return json(res, 500, { error: "server_error" });
          case "timeout":
            return; // never answered; the client's timeout has to fire
          case "html":
            return html(res, 200, "<html><body>Service temporarily unavailable</body></html>");
          case "malformed":
            res.writeHead(200, { "Content-Type": "application/json" }).end('{"access_token": "trunc');
            return;
          case "invalid_grant":
            return oauthError(res, 400, "invalid_grant", "Invalid grant: refresh_token is invalid");
          default: {
            const base = {
              access_token: token("mock_at_bad"),
              token_type: "Bearer",
              expires_in: 3600,
              refresh_token: token("mock_rt_bad"),
              scope: "base",
              api_domain: apiDomain,
            };
            state.issued.push(base.access_token, base.refresh_token);
            if (fault.mode === "bad_api_domain") return json(res, 200, { ...base, api_domain: "https://evil.example" });
            if (fault.mode === "no_refresh_token") return json(res, 200, { ...base, refresh_token: undefined });
            return json(res, 200, { ...base, expires_in: "3600 seconds" });
          }
        }
      }
      if (grantType === "authorization_code") {
        const code = state.codes.get(form.get("code") ?? "");
        if (!code || code.used || code.expiresAt <= Date.now() || code.redirectUri !== form.get("redirect_uri")) {
          return refuse(400, "invalid_grant", "Invalid grant: authorization code is invalid");
        }
        // A code issued with a PKCE challenge is only redeemed with its verifier.
        const verifier = form.get("code_verifier");
        if (
          code.challenge &&
          (!verifier || createHash("sha256").update(verifier).digest("base64url") !== code.challenge)
        ) {
          code.used = true;
          return refuse(400, "invalid_grant", "Invalid grant: code_verifier does not match");
        }
        code.used = true;
        return answer(200, issueTokens({ refreshToken: "", accessTokens: new Set(), revoked: false }, grantType));
      }
      if (grantType === "refresh_token") {
        const entry = state.refreshTokens.get(form.get("refresh_token") ?? "");
        if (!entry || entry.used || entry.grant.revoked) {
          return refuse(400, "invalid_grant", "Invalid grant: refresh_token is invalid");
        }
        entry.used = true;
        return answer(200, issueTokens(entry.grant, grantType));
      }
      return refuse(400, "unsupported_grant_type", "Unsupported grant type");
    }

    if (path === "/oauth/revoke" && req.method === "POST") {
      if (!clientAuth(req, new URLSearchParams(body))) {
        record(req, path, 401);
        return json(res, 401, { error: "invalid_client" });
      }
      if (takeFault("revoke")) {
        record(req, path, 500);
        return json(res, 500, { error: "server_error" });
      }
      const entry = state.refreshTokens.get(new URLSearchParams(body).get("token") ?? "");
      if (entry) entry.grant.revoked = true;
      record(req, path, 200);
      res.writeHead(200).end();
      return;
    }

    if (path === "/api/v1/users/me" && req.method === "GET") {
      if (state.faults.apiLatencyMs) await delay(state.faults.apiLatencyMs);
      const caller = bearer(req);
      if (!caller || takeFault("api401")) {
        record(req, path, 401);
        return json(res, 401, { success: false, error: "unauthorized access", errorCode: 401 });
      }
      const limits = rateLimit(res, caller.token, false);
      if (!limits) return record(req, path, 429);
      record(req, path, 200);
      return json(
        res,
        200,
        {
          success: true,
          data: {
            id: MOCK_USER.id,
            name: MOCK_USER.name,
            email: "pat@acme-mock.example",
            company_id: MOCK_COMPANY.id,
            company_name: MOCK_COMPANY.name,
            company_domain: MOCK_COMPANY.domain,
          },
        },
        limits,
      );
    }

    // v1 is deprecated, but it is what the lead-enrichment service calls.
    const searchVersion = path === "/api/v2/persons/search" ? 2 : path === "/api/v1/persons/search" ? 1 : null;
    if (searchVersion && req.method === "GET") {
      if (state.faults.apiLatencyMs) await delay(state.faults.apiLatencyMs);
      const caller = bearer(req);
      if (!caller || takeFault("api401")) {
        record(req, path, 401);
        return json(res, 401, { success: false, error: "unauthorized access", errorCode: 401 });
      }
      const limits = rateLimit(res, caller.token, true);
      if (!limits) return record(req, path, 429);
      const limit = state.faults.searchRateLimit;
      if (limit) {
        const now = Date.now();
        if (now - state.searchWindow.start >= limit.windowMs) state.searchWindow = { start: now, count: 0 };
        state.searchWindow.count += 1;
        const resetSeconds = Math.max(0, Math.ceil((state.searchWindow.start + limit.windowMs - now) / 1000));
        const headers = {
          "x-ratelimit-limit": String(limit.limit),
          "x-ratelimit-remaining": String(Math.max(0, limit.limit - state.searchWindow.count)),
          "x-ratelimit-reset": String(resetSeconds),
        };
        if (state.searchWindow.count > limit.limit) {
          record(req, path, 429);
          res.writeHead(429, {
            ...headers,
            "Retry-After": String(limit.retryAfterSeconds),
            "Content-Type": "application/json",
          });
          res.end(JSON.stringify({ success: false, error: "Too many requests", errorCode: 429 }));
          return;
        }
      }
      const term = url.searchParams.get("term") ?? "";
      const page = pageOf(url.searchParams, searchVersion);
      if ("error" in page) {
        record(req, path, 400);
        return json(res, 400, { success: false, error: page.error, errorCode: 400 }, limits);
      }
      const matches = state.persons.filter((person) => person.phones.some((phone) => phoneMatches(phone, term)));
      const items = matches.slice(page.offset, page.offset + page.limit).map((person) => ({
        result_score: 1,
        item: {
          id: person.id,
          type: "person",
          name: person.name,
          phones: person.phones,
          emails: person.emails,
          organization: person.organization,
          owner: { id: MOCK_USER.id },
        },
      }));
      const more = page.offset + page.limit < matches.length;
      record(req, path, 200);
      if (searchVersion === 1) {
        const pagination = {
          start: page.offset,
          limit: page.limit,
          more_items_in_collection: more,
          ...(more ? { next_start: page.offset + page.limit } : {}),
        };
        return json(res, 200, { success: true, data: { items }, additional_data: { pagination } }, limits);
      }
      return json(
        res,
        200,
        {
          success: true,
          data: { items },
          additional_data: { next_cursor: more ? encodeCursor(page.offset + page.limit) : null },
        },
        limits,
      );
    }

    // Control endpoints, for tests and benchmarks only.
    if (path === "/__mock/requests" && req.method === "GET") return json(res, 200, state.requests);
    if (path === "/__mock/tokens" && req.method === "GET") return json(res, 200, { issued: state.issued });
    if (path === "/__mock/reset" && req.method === "POST") {
      reset();
      return json(res, 200, { ok: true });
    }
    if (path === "/__mock/faults" && req.method === "POST") {
      state.faults = JSON.parse(body || "{}") as Faults;
      return json(res, 200, { ok: true, faults: state.faults });
    }
    if (path === "/__mock/config" && req.method === "POST") {
      const config = JSON.parse(body || "{}") as {
        tokenLifetimeSeconds?: number;
        redirectUris?: string[];
      } & Partial<Strictness>;
      if (config.tokenLifetimeSeconds) state.tokenLifetimeSeconds = config.tokenLifetimeSeconds;
      configure(config);
      for (const uri of config.redirectUris ?? []) state.redirectUris.add(uri);
      return json(res, 200, { ok: true });
    }
    if (path === "/__mock/persons" && req.method === "POST") {
      state.persons = JSON.parse(body || "[]") as MockPerson[];
      return json(res, 200, { ok: true, count: state.persons.length });
    }
    if (path === "/__mock/expire-access-tokens" && req.method === "POST") {
      for (const entry of state.accessTokens.values()) entry.expiresAt = 0;
      return json(res, 200, { ok: true });
    }
    if (path === "/__mock/uninstall" && req.method === "POST") {
      // Sends the notice Pipedrive sends when a user uninstalls the app.
      const notice = JSON.parse(body || "{}") as {
        callbackUrl: string;
        companyId?: number;
        userId?: number;
        auth?: "valid" | "wrong" | "none";
      };
      const authorization =
        notice.auth === "none"
          ? undefined
          : `Basic ${Buffer.from(`${clientId}:${notice.auth === "wrong" ? "not-the-secret" : clientSecret}`).toString("base64")}`;
      const answer = await fetch(notice.callbackUrl, {
        method: "DELETE",
        headers: { "Content-Type": "application/json", ...(authorization ? { Authorization: authorization } : {}) },
        body: JSON.stringify({
          client_id: clientId,
          company_id: notice.companyId ?? MOCK_COMPANY.id,
          user_id: notice.userId ?? MOCK_USER.id,
          timestamp: new Date().toISOString(),
        }),
      });
      return json(res, 200, { status: answer.status });
    }

    record(req, path, 404);
    json(res, 404, { success: false, error: "Not found" });
  }

  return {
    url: baseUrl,
    port,
    clientId,
    clientSecret,
    /** host:port as the app should allow it in PIPEDRIVE_MOCK_HOST. */
    host: new URL(apiDomain).host,
    requests: () => [...state.requests],
    issuedTokens: () => [...state.issued],
    setFaults: (faults: Faults) => void (state.faults = structuredClone(faults)),
    setTokenLifetime: (seconds: number) => void (state.tokenLifetimeSeconds = seconds),
    addRedirectUri: (uri: string) => void state.redirectUris.add(uri),
    expireAccessTokens: () => {
      for (const entry of state.accessTokens.values()) entry.expiresAt = 0;
    },
    /** Runs the consent step as if the user pressed Allow; returns the callback query. */
    authorize: (redirectUri: string, stateParam: string, codeChallenge: string | null = null) => {
      const code = token("mock_code");
      state.codes.set(code, { redirectUri, expiresAt: Date.now() + 5 * 60_000, used: false, challenge: codeChallenge });
      return { code, state: stateParam };
    },
    /** Profile, error shape or daily budget, for this test; reset() goes back to the options. */
    configure,
    profile: () => state.strictness.profile,
    reset,
    /** Token requests waiting under holdTokenRequests. */
    heldTokenRequests: () => state.held.length,
    releaseTokenRequests: () => {
      delete state.faults.holdTokenRequests;
      for (const release of state.held.splice(0)) release();
    },
    setPersons: (persons: MockPerson[]) => void (state.persons = [...persons]),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type MockPipedrive = Awaited<ReturnType<typeof startMockPipedrive>>;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function json(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { ...headers, "Content-Type": "application/json" }).end(JSON.stringify(payload));
}

const encodeCursor = (offset: number) => Buffer.from(JSON.stringify({ offset })).toString("base64url");

/** Pipedrive's paging: v2 takes limit (1–500, default 100) and an opaque cursor; v1 takes start. */
function pageOf(query: URLSearchParams, version: 1 | 2): { offset: number; limit: number } | { error: string } {
  const limit = query.has("limit") ? Number(query.get("limit")) : 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) return { error: "limit must be an integer from 1 to 500" };
  if (version === 1) {
    const start = Number(query.get("start") ?? 0);
    return Number.isInteger(start) && start >= 0
      ? { offset: start, limit }
      : { error: "start must be a non-negative integer" };
  }
  const cursor = query.get("cursor");
  if (!cursor) return { offset: 0, limit };
  try {
    const { offset } = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { offset: unknown };
    if (typeof offset === "number" && Number.isInteger(offset) && offset >= 0) return { offset, limit };
  } catch {
    // falls through to the error below
  }
  return { error: "Invalid cursor" };
}

function html(res: ServerResponse, status: number, body: string) {
  res.writeHead(status, { "Content-Type": "text/html; charset=utf-8" }).end(body);
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function escape(value: string) {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, content: string) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)} · Mock Pipedrive</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1b1f24;margin:0;display:grid;place-items:center;min-height:100vh}
main{background:#fff;border-radius:12px;padding:2rem;max-width:28rem;box-shadow:0 2px 12px rgba(0,0,0,.08)}
.actions{display:flex;gap:.75rem;margin-top:1.5rem}button{font:inherit;padding:.6rem 1.4rem;border-radius:8px;border:0;background:#1a7f37;color:#fff;cursor:pointer}
button.secondary{background:#e7e9ec;color:#1b1f24}button:focus-visible{outline:3px solid #0b5cad;outline-offset:2px}p.brand{color:#555;font-size:.85rem}</style>
</head><body><main><p class="brand">Mock Pipedrive (local)</p><h1>${escape(title)}</h1>${content}</main></body></html>`;
}
