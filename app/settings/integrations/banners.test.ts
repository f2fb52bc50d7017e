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
});
