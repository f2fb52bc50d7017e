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
  it("with nothing production-like set, is the demo", () => {
    expect(launchPlan({}, { production: true })).toEqual({ demo: true });
    expect(launchPlan({ APP_URL: "http://localhost:3000" }, { production: true })).toEqual({
      demo: true,
    });
  });

  it("with everything set, is a deployment: no mock, no demo users", () => {
    expect(launchPlan(deployment, { production: true })).toEqual({ demo: false });
  });

  it.each([
    [
      "Pipedrive credentials without a database",
      { PIPEDRIVE_CLIENT_ID: "id", PIPEDRIVE_CLIENT_SECRET: "s" },
      "DATABASE_URL",
    ],
    ["a database without Pipedrive credentials", { DATABASE_URL: deployment.DATABASE_URL }, "PIPEDRIVE_CLIENT_ID"],
    ["an https APP_URL alone", { APP_URL: "https://crm.example.com" }, "DATABASE_URL"],
    ["everything but AUTH_SECRET", { ...deployment, AUTH_SECRET: "" }, "AUTH_SECRET"],
  ])("refuses %s, naming what is missing", (_, settings, missing) => {
    const plan = launchPlan(settings, { production: true });
    expect(plan).toHaveProperty("refused");
    expect("refused" in plan && plan.refused).toContain(missing);
  });
});

describe("npm run dev", () => {
  it("is the demo with the embedded database or a given one", () => {
    expect(launchPlan({}, { production: false })).toEqual({ demo: true });
    expect(launchPlan({ DATABASE_URL: deployment.DATABASE_URL }, { production: false })).toEqual({
      demo: true,
    });
  });

  it("talks to Pipedrive when both credentials are set, and refuses only one of them", () => {
    expect(launchPlan({ PIPEDRIVE_CLIENT_ID: "id", PIPEDRIVE_CLIENT_SECRET: "s" }, { production: false })).toEqual({
      demo: false,
    });
    expect(launchPlan({ PIPEDRIVE_CLIENT_ID: "id" }, { production: false })).toHaveProperty("refused");
  });
});
