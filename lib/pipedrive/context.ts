import "server-only";

import { circuitBreaker, ConsecutiveBreaker, handleWhen, type CircuitBreakerPolicy } from "cockatiel";

import { CALLBACKS_AT_ONCE, callbackSlots, type CallbackSlots } from "../callback-slots.ts";
import { DEFAULTS, env } from "../env.ts";
import { reportAppCredentials } from "../operator-alert-store.ts";
import { createApiClient, type ApiClient } from "./client/api-client.ts";
import type { HostPolicy } from "./client/api-domain.ts";
import { isPipedriveError, sleep, type Fetch, type Sleep } from "./client/http.ts";
import { createOAuthClient, type OAuthClient } from "./client/oauth-client.ts";
import { stateKey } from "./connect/state.ts";
import { recordCall } from "./lookup/usage-store.ts";

/** Everything the Pipedrive flows depend on, passed in so tests can point it elsewhere. */
export type PipedriveContext = {
  oauth: OAuthClient;
  api: ApiClient;
  hosts: HostPolicy;
  clientId: string;
  clientSecret: string;
  stateKey: Buffer;
  stateTtlSeconds: number;
  /** Refresh when the token has less than this left. */
  skewSeconds: number;
  phoneRegion: string;
  secureCookies: boolean;
  now: () => Date;
  sleep: Sleep;
  random: () => number;
  /** Attempts for a refresh that fails with 5xx or a timeout. */
  refreshAttempts: number;
  /** After invalid_grant, how long another writer's rotation may take to land in the row. */
  rotationGraceMs: number;
  /**
   * How long a refused refresh token must stay the row's before the connection is marked
   * needs_reconnect where admins see it (page, status view, metrics, mail). 0: at once.
   */
  verdictGraceMs: number;
  /** The background keeper's schedule: renew this long before expiry, or after this many idle days. */
  keeper: { windowSeconds: number; idleDays: number };
  /** Stops calling the token endpoint for a while after repeated timeouts or 5xx. */
  tokenBreaker: CircuitBreakerPolicy;
  /** Callbacks whose codes this process exchanges at once (callback-slots.ts). */
  callbacks: CallbackSlots;
  /** Send PKCE (S256) with connect flows. */
  pkce: boolean;
  /** Scopes lookups need; a grant without one of them waits for new permissions. */
  requiredScopes: string[];
  /** The most a person at the settings page waits for a lookup, every call included. */
  lookupBoundMs: number;
  /** Page lookups a workspace may run in a UTC day. */
  lookupDailyLimit: number;
};

export type ContextOptions = {
  oauthBaseUrl: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  mockHost: string | null;
  authSecret: string;
  stateTtlSeconds?: number;
  skewSeconds?: number;
  timeoutMs?: number;
  phoneRegion?: string;
  secureCookies?: boolean;
  fetch?: Fetch;
  now?: () => Date;
  sleep?: Sleep;
  random?: () => number;
  rotationGraceMs?: number;
  verdictGraceMs?: number;
  keeperWindowSeconds?: number;
  keeperIdleDays?: number;
  breakerCooldownMs?: number;
  pkce?: boolean;
  requiredScopes?: string[];
  lookupBoundMs?: number;
  lookupDailyLimit?: number;
  onClientCredentials?: (accepted: boolean) => Promise<void>;
  /** Callbacks taken on at once, and how long one more waits for its turn before it is told busy. */
  callbacksAtOnce?: number;
  callbackWaitMs?: number;
};

export function createPipedriveContext(options: ContextOptions): PipedriveContext {
  const hosts = { mockHost: options.mockHost };
  const fetchImpl = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? DEFAULTS.PIPEDRIVE_HTTP_TIMEOUT_MS;
  const sleepImpl = options.sleep ?? sleep;
  return {
    oauth: createOAuthClient({ ...options, hosts, fetch: fetchImpl, timeoutMs }),
    api: createApiClient({
      fetch: fetchImpl,
      timeoutMs,
      sleep: sleepImpl,
      maxRateLimitRetries: 4,
      // A person is waiting on a lookup: at most about 5 s of waiting out burst limits.
      maxRateLimitWaitMs: 5_000,
      random: options.random,
      now: options.now && (() => options.now!().getTime()),
      onCall: (apiHost, call) => recordCall(apiHost, call, new Date()),
    }),
    hosts,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    stateKey: stateKey(options.authSecret),
    stateTtlSeconds: options.stateTtlSeconds ?? DEFAULTS.OAUTH_STATE_TTL_SECONDS,
    skewSeconds: options.skewSeconds ?? DEFAULTS.PIPEDRIVE_TOKEN_SKEW_SECONDS,
    phoneRegion: options.phoneRegion ?? DEFAULTS.PHONE_DEFAULT_REGION,
    secureCookies: options.secureCookies ?? false,
    now: options.now ?? (() => new Date()),
    sleep: sleepImpl,
    random: options.random ?? Math.random,
    refreshAttempts: 3,
    rotationGraceMs: options.rotationGraceMs ?? 2_000,
    verdictGraceMs: options.verdictGraceMs ?? DEFAULTS.PIPEDRIVE_VERDICT_GRACE_SECONDS * 1000,
    keeper: {
      windowSeconds: options.keeperWindowSeconds ?? DEFAULTS.KEEPER_WINDOW_SECONDS,
      idleDays: options.keeperIdleDays ?? DEFAULTS.KEEPER_IDLE_DAYS,
    },
    pkce: options.pkce ?? true,
    requiredScopes: options.requiredScopes ?? DEFAULTS.PIPEDRIVE_REQUIRED_SCOPES.split(","),
    // At 6 s per Pipedrive answer, a miss that tried every form of the number took 36 s.
    lookupBoundMs: options.lookupBoundMs ?? DEFAULTS.LOOKUP_MAX_WAIT_SECONDS * 1000,
    lookupDailyLimit: options.lookupDailyLimit ?? DEFAULTS.LOOKUP_DAILY_LIMIT,
    callbacks: callbackSlots(
      options.callbacksAtOnce ?? CALLBACKS_AT_ONCE,
      options.callbackWaitMs ?? 3 * DEFAULTS.DB_POOL_WAIT_MS,
    ),
    tokenBreaker: circuitBreaker(
      handleWhen((error) => isPipedriveError(error, "unavailable")),
      { halfOpenAfter: options.breakerCooldownMs ?? 30_000, breaker: new ConsecutiveBreaker(5) },
    ),
  };
}

let cached: PipedriveContext | undefined;

/** The context the app runs with, from the environment. */
export function pipedrive(): PipedriveContext {
  if (!cached) {
    const e = env();
    cached = createPipedriveContext({
      oauthBaseUrl: e.PIPEDRIVE_OAUTH_BASE_URL,
      clientId: e.PIPEDRIVE_CLIENT_ID,
      clientSecret: e.PIPEDRIVE_CLIENT_SECRET,
      redirectUri: e.PIPEDRIVE_REDIRECT_URI,
      mockHost: e.PIPEDRIVE_MOCK_HOST ?? null,
      authSecret: e.AUTH_SECRET,
      stateTtlSeconds: e.OAUTH_STATE_TTL_SECONDS,
      skewSeconds: e.PIPEDRIVE_TOKEN_SKEW_SECONDS,
      timeoutMs: e.PIPEDRIVE_HTTP_TIMEOUT_MS,
      phoneRegion: e.PHONE_DEFAULT_REGION,
      secureCookies: e.secureCookies,
      keeperWindowSeconds: e.KEEPER_WINDOW_SECONDS,
      keeperIdleDays: e.KEEPER_IDLE_DAYS,
      verdictGraceMs: e.PIPEDRIVE_VERDICT_GRACE_SECONDS * 1000,
      pkce: e.PIPEDRIVE_PKCE === "on",
      requiredScopes: e.PIPEDRIVE_REQUIRED_SCOPES.split(","),
      lookupBoundMs: e.LOOKUP_MAX_WAIT_SECONDS * 1000,
      lookupDailyLimit: e.LOOKUP_DAILY_LIMIT,
      onClientCredentials: reportAppCredentials,
      callbackWaitMs: 3 * e.DB_POOL_WAIT_MS,
    });
  }
  return cached;
}
