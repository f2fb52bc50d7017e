import { describe, expect, it } from "vitest";

import { badgeOf, conditionOf, reconnectPlace } from "./conditions.ts";
import type { ConnectionView } from "./connection-store.ts";

const healthy = { status: "connected", hostAllowed: true, lookupsPausedUntil: null } as unknown as ConnectionView;
const at = new Date("2026-12-01T12:00:00Z");
const keeperUp = { down: false, seenAt: at };
const of = (
  change: Partial<ConnectionView>,
  extra: { rejected?: Date; keeperDown?: boolean; isAdmin?: boolean } = {},
) =>
  conditionOf({
    connection: { ...healthy, ...change },
    appCredentialsRejectedSince: extra.rejected ?? null,
    keeper: extra.keeperDown ? { down: true, seenAt: at } : keeperUp,
    isAdmin: extra.isAdmin ?? true,
  });

describe("the card's one status", () => {
  it("is the worst condition in force", () => {
    const everything = of(
      { status: "needs_reconnect", hostAllowed: false, lookupsPausedUntil: at },
      { rejected: at, keeperDown: true },
    );
    expect(everything.kind).toBe("unavailable");
    expect(of({ status: "needs_reconnect", lookupsPausedUntil: at }, { keeperDown: true }).kind).toBe(
      "needs_reconnect",
    );
    expect(of({ lookupsPausedUntil: at }, { keeperDown: true })).toEqual({ kind: "paused", until: at });
    expect(of({}, { keeperDown: true })).toEqual({ kind: "renewal_delayed", lastRan: at });
    expect(of({}).kind).toBe("connected");
  });

  it("keeps a stopped keeper from members, whose lookups still work", () => {
    expect(of({}, { keeperDown: true, isAdmin: false }).kind).toBe("connected");
    expect(badgeOf(of({}, { rejected: at, isAdmin: false }), false).text).toBe("Unavailable");
  });

  it("offers Reconnect only where it helps", () => {
    expect(reconnectPlace(of({ status: "needs_reconnect" }))).toBe("banner");
    expect(reconnectPlace(of({ hostAllowed: false }))).toBe("banner");
    expect(reconnectPlace(of({ lookupsPausedUntil: at }))).toBe("none");
    expect(reconnectPlace(of({}, { rejected: at }))).toBe("none");
    expect(reconnectPlace(of({ status: "subscription_lapsed" }))).toBe("none");
    expect(reconnectPlace(of({}))).toBe("actions");
  });
});
