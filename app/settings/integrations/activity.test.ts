import { describe, expect, it } from "vitest";

import { describeEvent } from "./activity.tsx";

const entry = (event: string, detail: Record<string, unknown> = {}, actorName: string | null = null) => ({
  id: "1",
  event,
  createdAt: new Date("2026-12-01T10:00:00Z"),
  detail,
  actorName,
});

describe("an activity entry in plain words", () => {
  it("names the admin and the Pipedrive company", () => {
    expect(describeEvent(entry("connected", { companyName: "Acme" }, "Dana Admin"))).toEqual({
      what: "Connected",
      company: "Acme",
      who: "by Dana Admin",
    });
  });

  it("names both Pipedrive users of a switch", () => {
    const switched = entry(
      "reconnected",
      { pipedriveUserName: "Bo", fromPipedriveUserName: "Pat", companyName: "Acme" },
      "Dana",
    );
    expect(describeEvent(switched).what).toBe("Switched Pipedrive user from Pat to Bo");
    expect(describeEvent(entry("reconnected", { pipedriveUserName: "Bo" }, "Dana")).what).toBe("Reconnected");
  });

  it("says why a connect failed in the words its banner used, never the protocol code", () => {
    expect(describeEvent(entry("connect_failed", { reason: "exchange_timeout" }, "Dana")).what).toBe(
      "Connect failed: Pipedrive took too long to answer",
    );
    // A reason the page does not know is not echoed.
    expect(describeEvent(entry("connect_failed", { reason: "<script>" }, "Dana")).what).toBe(
      "Connect failed: something went wrong",
    );
  });

  it("credits an uninstall to the Pipedrive user, and renewals to the CRM", () => {
    expect(describeEvent(entry("uninstalled", { pipedriveUserName: "Pat" })).who).toBe("by Pat, in Pipedrive");
    expect(describeEvent(entry("uninstalled")).who).toBe("by a Pipedrive user, in Pipedrive");
    expect(describeEvent(entry("refresh_failed", { companyName: 7 })).who).toBe("found by the CRM");
    expect(describeEvent(entry("refresh_failed", { companyName: 7 })).company).toBeNull();
  });
});
