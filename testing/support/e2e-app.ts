// The production build's settings for QA's runs: the one e2e server and any extra instance a
// spec starts beside it (on the same database and mock, with a setting changed).

export const E2E_METRICS_TOKEN = "e2e-metrics-token-e2e-metrics-token";

export const E2E_AUTH_SECRET = "e2e-auth-secret-e2e-auth-secret-e2e-auth";

/** The lead-enrichment service's key to the token and lookup endpoints in QA's runs. */
export const E2E_SERVICE_KEY = "e2e-enrichment-service-key-e2e-enrichment";

export function e2eAppEnv(options: { appUrl: string; mockPort: string | number; databaseUrl: string }) {
  return {
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
    DATABASE_URL: options.databaseUrl,
    AUTH_SECRET: E2E_AUTH_SECRET,
    APP_URL: options.appUrl,
    PIPEDRIVE_CLIENT_ID: "mock-client-id",
    PIPEDRIVE_CLIENT_SECRET: "mock-client-secret",
    PIPEDRIVE_OAUTH_BASE_URL: `http://localhost:${options.mockPort}`,
    PIPEDRIVE_MOCK_HOST: `localhost:${options.mockPort}`,
    // A refused refresh token is judged at once, so specs see Needs reconnect without waiting
    // for the keeper; the grace period (60 s by default) is covered by the integration suite.
    PIPEDRIVE_VERDICT_GRACE_SECONDS: "0",
    // Short, so the timeout attack does not slow the suite down.
    PIPEDRIVE_HTTP_TIMEOUT_MS: "1500",
    // A lookup's whole wait, short enough for a slow mock (1.4 s per answer, under the 1.5 s timeout) to reach it.
    LOOKUP_MAX_WAIT_SECONDS: "4",
    SERVICE_API_KEYS: `enrichment=${E2E_SERVICE_KEY}`,
  } as const;
}
