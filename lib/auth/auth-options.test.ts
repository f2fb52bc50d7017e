import { describe, expect, it } from "vitest";

import { parseEnv } from "../env.ts";
import { authOptions } from "./auth.ts";

const base = {
  DATABASE_URL: "postgresql://u:p@localhost:5432/crm",
  AUTH_SECRET: "x".repeat(32),
  PIPEDRIVE_CLIENT_ID: "id",
  PIPEDRIVE_CLIENT_SECRET: "secret",
};

describe("Auth.js's session cookie", () => {
  it("lives as long as a session may, one setting for both", () => {
    expect(authOptions(parseEnv(base)).session?.maxAge).toBe(12 * 60 * 60);
    expect(authOptions(parseEnv({ ...base, SESSION_MAX_HOURS: "3" })).session?.maxAge).toBe(3 * 60 * 60);
  });

  it("is Secure whenever APP_URL is https, whatever a proxy's X-Forwarded-Proto says", () => {
    expect(authOptions(parseEnv({ ...base, APP_URL: "https://crm.example.com" })).useSecureCookies).toBe(true);
    expect(authOptions(parseEnv({ ...base, APP_URL: "http://localhost:3000" })).useSecureCookies).toBe(false);
  });
});
