import http, { type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

import { apiEndpoints } from "./api.ts";
import { consentPages } from "./consent-page.ts";
import { controlEndpoints, type MockConfig } from "./control.ts";
import { json, readBody } from "./http.ts";
import {
  CONTROL_HEADER,
  DEFAULT_PERSONS,
  DEFAULT_SCOPES,
  defaultBehaviour,
  freshIdentity,
  WORLD_COOKIE,
  WORLD_HEADER,
  worldNumber,
  worldOfToken,
  type ClientAuthStyle,
  type Faults,
  type MockPerson,
} from "./model.ts";
import { oauthEndpoints } from "./oauth.ts";
import { createState, type Consent, type MockOptions } from "./state.ts";

// A local stand-in for Pipedrive's OAuth server and the bits of its API we use, keeping the
// rules Pipedrive documents: per-user installs, Basic or form-body client auth, single-use
// 5-minute codes, a refresh that keeps its refresh token, revoke that uninstalls, 401/402/403,
// cursor pagination and 429 with Retry-After. Where the docs are silent it has switches
// (POST /__mock/config), and it can be told to fail (POST /__mock/faults).
//
// Two profiles. "friendly" (the default, for demos) matches phones by their digits, rotates
// refresh tokens and keeps an install's grant on a second exchange. "strict" is Pipedrive as
// strictly as its docs allow: literal exact matching, rate-limit headers with a per-token burst
// window and a daily budget, refresh answers without api_domain, token errors as plain text, no
// rotation, and a second exchange that replaces the install's whole token set.

export * from "./model.ts";
export type { MockOptions } from "./state.ts";
export type { MockConfig } from "./control.ts";

export async function startMockPipedrive(options: MockOptions = {}) {
  const clientId = options.clientId ?? "mock-client-id";
  const clientSecret = options.clientSecret ?? "mock-client-secret";
  const server = http.createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) json(res, 500, { success: false, error: String(error) });
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const baseUrl = `http://localhost:${port}`;
  const apiDomain = options.apiDomain ?? `https://localhost:${port}`;

  /** A world's state and endpoints (see WORLD_COOKIE): each worker of a test run has its own. */
  function createWorld(world: number) {
    const state = createState(options, clientId, world);
    const s = state.s;

    function record(
      req: IncomingMessage,
      path: string,
      status: number,
      grantType?: string,
      clientAuth?: ClientAuthStyle,
    ) {
      const query = new URL(req.url ?? "/", "http://mock").searchParams;
      s.requests.push({
        method: req.method ?? "GET",
        path,
        // What an API call asked for (never a token: those travel in headers and bodies).
        ...(path.startsWith("/api/") && query.has("fields") ? { fields: query.get("fields")! } : {}),
        grantType,
        clientAuth,
        status,
        time: new Date().toISOString(),
      });
    }

    /** Back to how the mock started, but for the installs it holds: those stay valid. */
    function reset() {
      for (const release of s.held.splice(0)) release();
      for (const release of s.heldBodyReplies.splice(0)) release();
      s.requests = [];
      s.arrivals = [];
      s.uninstalls = [];
      s.faults = {};
      state.resetBehaviour();
      s.burst.clear();
      s.budget = { day: "", used: 0 };
      s.persons = [...(options.persons ?? DEFAULT_PERSONS)];
      s.searchWindow = { start: 0, count: 0 };
      s.tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? 3600;
      s.consentScopes = DEFAULT_SCOPES;
    }

    function configure(config: MockConfig) {
      const { tokenLifetimeSeconds, redirectUris, consentScopes, ...behaviour } = config;
      // A profile comes with its own defaults; switches given beside it win.
      if (behaviour.profile) s.behaviour = defaultBehaviour(behaviour.profile, s.behaviour.dailyBudget);
      if (tokenLifetimeSeconds) s.tokenLifetimeSeconds = tokenLifetimeSeconds;
      for (const uri of redirectUris ?? []) s.redirectUris.add(uri);
      if (consentScopes) s.consentScopes = consentScopes;
      for (const [key, value] of Object.entries(behaviour)) {
        if (value !== undefined) Object.assign(s.behaviour, { [key]: value });
      }
    }

    const consent = consentPages(state, clientId, record);
    const oauth = oauthEndpoints(state, { clientId, clientSecret, apiDomain }, record);
    const api = apiEndpoints(state, record);
    const control = controlEndpoints(state, { clientId, clientSecret }, { reset, configure });

    return { state, s, record, reset, configure, consent, oauth, api, control };
  }
  const worlds = new Map<number, ReturnType<typeof createWorld>>();
  const worldAt = (world: number) => {
    let found = worlds.get(world);
    if (!found) worlds.set(world, (found = createWorld(world)));
    return found;
  };
  const { state, s, reset, configure } = worldAt(0);

  /** Which world a request is in: its browser's cookie, the token it carries, or the control header. */
  function worldOf(req: IncomingMessage, path: string, body: string): number {
    if (path.startsWith("/__mock/")) return worldNumber(String(req.headers[WORLD_HEADER] ?? 0));
    if (path === "/oauth/token") {
      const form = new URLSearchParams(body);
      return worldOfToken(form.get("code") ?? form.get("refresh_token"));
    }
    if (path === "/oauth/revoke") return worldOfToken(new URLSearchParams(body).get("token"));
    if (path.startsWith("/api/")) return worldOfToken(req.headers.authorization?.match(/^Bearer (.+)$/)?.[1]);
    const cookie = req.headers.cookie?.split(/;\s*/).find((c) => c.startsWith(`${WORLD_COOKIE}=`));
    return worldNumber(cookie?.slice(WORLD_COOKIE.length + 1));
  }

  /** A control call from a test, the bench or QA: the custom header, addressed to this machine by a loopback name (no rebinding). */
  function fromTheSuite(req: IncomingMessage): boolean {
    const host = req.headers.host ?? "";
    return (
      req.headers[CONTROL_HEADER] === "1" &&
      [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`].includes(host.toLowerCase())
    );
  }

  async function handle(req: IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? "/", baseUrl);
    const path = url.pathname;
    const body = await readBody(req);
    const route = `${req.method} ${path}`;
    const { consent, oauth, api, control, record } = worldAt(worldOf(req, path, body));
    if (route === "GET /oauth/authorize") return consent.authorize(req, res, url);
    if (route === "POST /oauth/authorize/decision") return consent.decide(req, res, body);
    if (route === "GET /marketplace") return consent.marketplace(res, url);
    if (route === "POST /oauth/token") return oauth.token(req, res, body);
    if (route === "POST /oauth/revoke") return oauth.revoke(req, res, body);
    if (route === "GET /api/v1/users/me") return api.me(req, res);
    if (route === "GET /api/v1/personFields") return api.personFields(req, res);
    if (route === "GET /api/v2/persons/search") return api.search(req, res, url, 2);
    if (route === "GET /api/v1/persons/search") return api.search(req, res, url, 1);
    if (path.startsWith("/__mock/")) {
      if (!fromTheSuite(req)) return json(res, 403, { success: false, error: "Control calls need the control header" });
      if (await control(req, res, path, body)) return;
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
    requests: () => [...s.requests],
    issuedTokens: () => [...s.issued],
    /** Installs alive now, and the uninstalls a revoke caused since the last reset. */
    installs: () => [...s.installs.values()].map((install) => ({ ...install.who, scopes: install.scopes })),
    uninstalls: () => [...s.uninstalls],
    setFaults: (faults: Faults) => void (s.faults = structuredClone(faults)),
    setTokenLifetime: (seconds: number) => void (s.tokenLifetimeSeconds = seconds),
    addRedirectUri: (uri: string) => void s.redirectUris.add(uri),
    expireAccessTokens: () => {
      for (const entry of s.accessTokens.values()) entry.expiresAt = 0;
    },
    /**
     * Runs the consent step as if the user pressed Allow; returns the callback query. Unless the
     * grant says who, a Pipedrive user no other test uses grants it (its own install).
     */
    authorize: (redirectUri: string, stateParam: string, codeChallenge: string | null = null, grant: Consent = {}) => ({
      code: state.issueCode(redirectUri, codeChallenge, { ...grant, who: grant.who ?? freshIdentity() }),
      state: stateParam,
    }),
    /** Profile, error shape, install switches or daily budget, for this test; reset() goes back to the options. */
    configure,
    profile: () => s.behaviour.profile,
    behaviour: () => ({ ...s.behaviour }),
    reset,
    /** Token requests waiting under holdTokenRequests. */
    heldTokenRequests: () => s.held.length,
    releaseTokenRequests: () => {
      delete s.faults.holdTokenRequests;
      for (const release of s.held.splice(0)) release();
    },
    setPersons: (persons: MockPerson[]) => void (s.persons = [...persons]),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type MockPipedrive = Awaited<ReturnType<typeof startMockPipedrive>>;
