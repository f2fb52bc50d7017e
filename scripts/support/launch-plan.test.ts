import { describe, expect, it } from "vitest";

import { launchPlan } from "./launch-plan.ts";

const deployment = {
  DATABASE_URL: "postgresql://crm@db.internal/crm",
  PIPEDRIVE_CLIENT_ID: "id",
  PIPEDRIVE_CLIENT_SECRET: "secret",
  AUTH_SECRET: "x".repeat(32),
  APP_URL: "https://crm.example.com",
};

describe("npm start", () => {
  it("is the demo only when DEMO=1 asks for it", () => {
    expect(launchPlan({ DEMO: "1" }, { production: true })).toEqual({ demo: true, seed: true });
    expect(launchPlan({ DEMO: "1", APP_URL: "http://localhost:3000" }, { production: true })).toEqual({
      demo: true,
      seed: true,
    });
  });

  it("with everything set, is a deployment: no mock, no demo users", () => {
    expect(launchPlan(deployment, { production: true })).toEqual({ demo: false, seed: false });
  });

  it("refuses PIPEDRIVE_MOCK_HOST in a deployment: tokens would go over plain http to this machine", () => {
    const plan = launchPlan({ ...deployment, PIPEDRIVE_MOCK_HOST: "localhost:4010" }, { production: true });
    expect("refused" in plan && plan.refused).toContain("PIPEDRIVE_MOCK_HOST");
  });

  it.each([
    ["nothing at all", {}, "DATABASE_URL, PIPEDRIVE_CLIENT_ID, PIPEDRIVE_CLIENT_SECRET, AUTH_SECRET, APP_URL"],
    [
      "Pipedrive credentials without a database",
      { PIPEDRIVE_CLIENT_ID: "id", PIPEDRIVE_CLIENT_SECRET: "s" },
      "DATABASE_URL",
    ],
    ["a database without Pipedrive credentials", { DATABASE_URL: deployment.DATABASE_URL }, "PIPEDRIVE_CLIENT_ID"],
    ["an https APP_URL alone", { APP_URL: "https://crm.example.com" }, "DATABASE_URL"],
    ["an upper-case HTTPS APP_URL alone", { APP_URL: "HTTPS://crm.example.com" }, "DATABASE_URL"],
    ["a plain http APP_URL on a public host", { APP_URL: "http://crm.example.com" }, "DATABASE_URL"],
    ["AUTH_SECRET alone", { AUTH_SECRET: "x".repeat(32) }, "DATABASE_URL"],
    [
      "operator settings alone",
      { METRICS_TOKEN: "m".repeat(20), SMTP_URL: "smtp://mail", TRUSTED_PROXIES: "1" },
      "AUTH_SECRET",
    ],
    ["NODE_ENV=production alone", { NODE_ENV: "production" }, "PIPEDRIVE_CLIENT_SECRET"],
    ["everything but AUTH_SECRET", { ...deployment, AUTH_SECRET: "" }, "AUTH_SECRET"],
  ])("refuses %s, naming what is missing", (_, settings, missing) => {
    const plan = launchPlan(settings, { production: true });
    expect(plan).toHaveProperty("refused");
    expect("refused" in plan && plan.refused).toContain(missing);
    expect("refused" in plan && plan.refused).toContain("DEMO=1");
  });

  it.each([
    ["Pipedrive credentials", { PIPEDRIVE_CLIENT_ID: "id", PIPEDRIVE_CLIENT_SECRET: "s" }, "PIPEDRIVE_CLIENT_ID"],
    ["a database", { DATABASE_URL: deployment.DATABASE_URL }, "DATABASE_URL"],
    ["an https APP_URL in any case", { APP_URL: "HtTpS://crm.example.com" }, "APP_URL"],
    ["an APP_URL on a public host", { APP_URL: "http://crm.example.com" }, "APP_URL"],
  ])("refuses DEMO=1 beside %s, which only a deployment has", (_, settings, named) => {
    const plan = launchPlan({ DEMO: "1", ...settings }, { production: true });
    expect(plan).toHaveProperty("refused");
    expect("refused" in plan && plan.refused).toContain(named);
  });

  it("refuses an APP_URL that is not a URL rather than guess", () => {
    expect(launchPlan({ DEMO: "1", APP_URL: "crm.example.com" }, { production: true })).toHaveProperty("refused");
  });
});

describe("npm run dev", () => {
  it("is the demo with the embedded database or a given one", () => {
    expect(launchPlan({}, { production: false })).toEqual({ demo: true, seed: true });
    expect(launchPlan({ DATABASE_URL: deployment.DATABASE_URL }, { production: false })).toEqual({
      demo: true,
      seed: false,
    });
  });

  it("talks to Pipedrive when both credentials are set, and refuses only one of them", () => {
    expect(launchPlan({ PIPEDRIVE_CLIENT_ID: "id", PIPEDRIVE_CLIENT_SECRET: "s" }, { production: false })).toEqual({
      demo: false,
      seed: false,
    });
    expect(launchPlan({ PIPEDRIVE_CLIENT_ID: "id" }, { production: false })).toHaveProperty("refused");
  });
});

describe("demo users, whose passwords are published", () => {
  it.each([
    ["a deployment's settings", deployment],
    ["Pipedrive credentials", { PIPEDRIVE_CLIENT_ID: "id", PIPEDRIVE_CLIENT_SECRET: "s" }],
    ["an https APP_URL", { APP_URL: "https://crm.example.test" }],
    ["AUTH_SECRET", { AUTH_SECRET: "x".repeat(32) }],
  ])("are never seeded by npm run dev beside %s", (_, settings) => {
    expect(launchPlan(settings, { production: false })).toMatchObject({ seed: false });
  });
});
