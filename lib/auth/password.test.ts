import bcrypt from "bcryptjs";
import { describe, expect, it, vi } from "vitest";

import { hashPassword, verifyPassword } from "./password.ts";

// The sign-in throttling suite hashes at bcrypt's lowest cost to count guesses quickly; this is
// where the cost that protects stored passwords is held.
describe("password hashing", () => {
  it("hashes with bcrypt at cost 11 and verifies only the right password", async () => {
    const hash = await hashPassword("the right password");
    expect(bcrypt.getRounds(hash)).toBe(11);
    expect(await verifyPassword("the right password", hash)).toBe(true);
    expect(await verifyPassword("a wrong password", hash)).toBe(false);
  });

  it("checks a password for an unknown account against a hash of the same cost, and refuses it", async () => {
    const compare = vi.spyOn(bcrypt, "compare");
    let compared: string[];
    try {
      expect(await verifyPassword("anything", null)).toBe(false);
    } finally {
      compared = compare.mock.calls.map(([, hash]) => hash);
      compare.mockRestore();
    }
    expect(compared.map((hash) => bcrypt.getRounds(hash))).toEqual([11]);
  });
});
