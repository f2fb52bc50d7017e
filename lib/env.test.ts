import { describe, expect, it } from "vitest";

import { ConfigError, parseEnv } from "./env.ts";

const valid = {
  DATABASE_URL: "postgresql://u:p@localhost:5432/crm",
  AUTH_SECRET: "x".repeat(32),
  PIPEDRIVE_CLIENT_ID: "id",
  PIPEDRIVE_CLIENT_SECRET: "secret",
};

function problem(source: Record<string, string | undefined>) {
  try {
    parseEnv(source);
  } catch (error) {
    if (error instanceof ConfigError) return error;
  }
  throw new Error("expected a ConfigError");
}

describe("env", () => {
  it("fills the documented defaults", () => {
    const env = parseEnv(valid);
    expect(env).toMatchObject({
      APP_URL: "http://localhost:3000",
      PIPEDRIVE_OAUTH_BASE_URL: "https://oauth.pipedrive.com",
      PIPEDRIVE_REDIRECT_URI: "http://localhost:3000/api/integrations/pipedrive/callback",
      PIPEDRIVE_TOKEN_SKEW_SECONDS: 600,
      PIPEDRIVE_HTTP_TIMEOUT_MS: 10_000,
      OAUTH_STATE_TTL_SECONDS: 600,
      PHONE_DEFAULT_REGION: "BR",
      secureCookies: false,
    });
    expect(env.PIPEDRIVE_MOCK_HOST).toBeUndefined();
  });

  it("names every missing variable", () => {
    const error = problem({});
    expect(error.variables.sort()).toEqual([
      "AUTH_SECRET",
      "DATABASE_URL",
      "PIPEDRIVE_CLIENT_ID",
      "PIPEDRIVE_CLIENT_SECRET",
    ]);
    expect(error.message).toContain("DATABASE_URL: is not set");
  });

  it("names a malformed variable and says what is wrong", () => {
    expect(problem({ ...valid, DATABASE_URL: "mysql://x" }).variables).toEqual(["DATABASE_URL"]);
    expect(problem({ ...valid, AUTH_SECRET: "short" }).message).toContain(
      "AUTH_SECRET: must be at least 32 characters",
    );
    expect(problem({ ...valid, PIPEDRIVE_MOCK_HOST: "evil.example:80" }).variables).toEqual(["PIPEDRIVE_MOCK_HOST"]);
    expect(problem({ ...valid, PIPEDRIVE_TOKEN_SKEW_SECONDS: "soon" }).variables).toEqual([
      "PIPEDRIVE_TOKEN_SKEW_SECONDS",
    ]);
  });

  it("accepts PIPEDRIVE_MOCK_HOST only beside a loopback PIPEDRIVE_OAUTH_BASE_URL: the mock's, never Pipedrive's", () => {
    expect(problem({ ...valid, PIPEDRIVE_MOCK_HOST: "localhost:4010" }).variables).toEqual(["PIPEDRIVE_MOCK_HOST"]);
    expect(
      parseEnv({ ...valid, PIPEDRIVE_MOCK_HOST: "localhost:4010", PIPEDRIVE_OAUTH_BASE_URL: "http://localhost:4010" })
        .PIPEDRIVE_MOCK_HOST,
    ).toBe("localhost:4010");
  });

  it("derives the redirect URI and secure cookies from an https APP_URL", () => {
    const env = parseEnv({ ...valid, APP_URL: "https://crm.example.com/" });
    expect(env.PIPEDRIVE_REDIRECT_URI).toBe("https://crm.example.com/api/integrations/pipedrive/callback");
    expect(env.secureCookies).toBe(true);
  });
});
