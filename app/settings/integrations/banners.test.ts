import { describe, expect, it } from "vitest";

import { allOutcomes } from "@/lib/settings-outcomes.ts";

import { bannerFor } from "./banners.ts";

describe("outcome banners", () => {
  it("have a title and a body for every outcome a flow can end with", () => {
    for (const outcome of allOutcomes) {
      expect(bannerFor(outcome).title.length, JSON.stringify(outcome)).toBeGreaterThan(0);
      expect(bannerFor(outcome).body.length, JSON.stringify(outcome)).toBeGreaterThan(0);
    }
  });

  it("never say nothing was connected above a connection the workspace has", () => {
    for (const outcome of allOutcomes) {
      expect(bannerFor(outcome, { connected: true }).body, JSON.stringify(outcome)).not.toMatch(
        /Nothing was connected/,
      );
    }
  });

  it("name the admins a member asked, and the users of a switch", () => {
    const asked = bannerFor({ result: "asked" }, { connected: false, admins: ["Dana Admin", "Ed Admin", "Flo Admin"] });
    expect(asked.body).toContain("We mailed Dana Admin, Ed Admin and Flo Admin.");
    const switched = bannerFor(
      { result: "switched", revoke: "kept" },
      { connected: true, pipedriveUserName: "Sam Second", switchedFrom: "Pat Pipedrive" },
    );
    expect(switched.body).toBe(
      "Switched from Pat Pipedrive to Sam Second; the app stays installed in Pat Pipedrive's Pipedrive account, since another workspace still uses that login.",
    );
  });
});
