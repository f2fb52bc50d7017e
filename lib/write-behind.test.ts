import { describe, expect, it } from "vitest";

import { writeBehind } from "./write-behind.ts";

describe("write-behind counts", () => {
  it("adds up deltas per key and writes them once, keys in order", async () => {
    const batches: [string, number][][] = [];
    const w = writeBehind<number>({
      name: "test",
      merge: (a, b) => a + b,
      write: async (batch) => void batches.push(batch),
      delayMs: 60_000,
    });
    w.add("b", 1);
    w.add("a", 2);
    w.add("b", 3);
    expect(batches).toEqual([]);
    await w.flush();
    expect(batches).toEqual([
      [
        ["a", 2],
        ["b", 4],
      ],
    ]);
    await w.flush();
    expect(batches).toHaveLength(1);
  });

  it("writes on its own after the delay, and a failed write neither throws nor blocks the next", async () => {
    let fail = true;
    const written: [string, number][][] = [];
    const w = writeBehind<number>({
      name: "test",
      merge: (a, b) => a + b,
      write: async (batch) => {
        if (fail) throw new Error("database away");
        written.push(batch);
      },
      delayMs: 5,
    });
    w.add("x", 1);
    await w.flush();
    fail = false;
    w.add("x", 1);
    await expect.poll(() => written).toEqual([[["x", 1]]]);
  });
});
