import { describe, expect, it } from "vitest";

import { sameSecret } from "../../crypto.ts";
import { hashNonce, issueState, stateKey, verifyState } from "./state.ts";

const key = stateKey("k".repeat(40));

describe("OAuth state", () => {
  it("carries 256 random bits and verifies with the key that signed it", () => {
    const { state, nonceHash } = issueState(key);
    const [nonce] = state.split(".");
    expect(Buffer.from(nonce!, "base64url")).toHaveLength(32);
    expect(verifyState(key, state)).toBe(nonceHash);
    expect(nonceHash).toBe(hashNonce(nonce!));
    expect(issueState(key).state).not.toBe(state);
  });

  it("refuses a state signed with another key, tampered, truncated or padded", () => {
    const { state } = issueState(key);
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1);
    expect(verifyState(stateKey("other".repeat(10)), state)).toBeNull();
    expect(verifyState(key, flip(state, 5))).toBeNull();
    expect(verifyState(key, flip(state, state.length - 3))).toBeNull();
    expect(verifyState(key, state.slice(0, -1))).toBeNull();
    expect(verifyState(key, `${state}.x`)).toBeNull();
    expect(verifyState(key, "")).toBeNull();
  });

  it("compares secrets in constant time regardless of length", () => {
    expect(sameSecret("abc", "abc")).toBe(true);
    expect(sameSecret("abc", "abd")).toBe(false);
    expect(sameSecret("abc", "abcd")).toBe(false);
  });
});
