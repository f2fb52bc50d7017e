import { describe, expect, it } from "vitest";

import { sharedFor } from "./health.ts";

describe("a readiness answer", () => {
  it("is computed once per few seconds, however many ask at once, then afresh", async () => {
    let computed = 0;
    const read = sharedFor(5_000, async (now: Date) => ({ computed: ++computed, at: now.getTime() }));
    const t0 = new Date(1_000_000);
    const answers = await Promise.all(Array.from({ length: 2_000 }, () => read(t0)));
    expect(computed).toBe(1);
    expect(new Set(answers.map((a) => a.computed))).toEqual(new Set([1]));
    expect((await read(new Date(t0.getTime() + 4_999))).computed).toBe(1);
    expect((await read(new Date(t0.getTime() + 5_001))).computed).toBe(2);
  });

  it("is not kept when computing it failed", async () => {
    let calls = 0;
    const read = sharedFor(5_000, async () => {
      calls++;
      if (calls === 1) throw new Error("database down");
      return "ok";
    });
    await expect(read(new Date(0))).rejects.toThrow("database down");
    expect(await read(new Date(1))).toBe("ok");
  });
});
