import { describe, expect, it } from "vitest";

import { AppError } from "../errors.ts";
import { badgeOf, CONDITION_WORDS, conditionOf, grantGoneWords, reconnectPlace } from "./conditions.ts";
import type { ConnectionView } from "./settings-view-store.ts";

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

  it("says Checking access while a refused renewal is checked, to admins, members and callers alike", () => {
    const checking = { since: at, dueAt: new Date(at.getTime() + 60_000) };
    for (const isAdmin of [true, false]) {
      const condition = of({ checking, lookupsPausedUntil: at }, { keeperDown: true, isAdmin });
      expect(condition).toEqual({ kind: "checking_access", ...checking });
      expect(badgeOf(condition, isAdmin)).toEqual({ text: "Checking access", tone: "idle" });
    }
    expect(reconnectPlace({ kind: "checking_access", ...checking })).toBe("none");
    expect(new AppError("renewal_checking").userMessage).toBe(CONDITION_WORDS.checking_access.caller);
    expect(CONDITION_WORDS.checking_access.mail).toBeUndefined();
  });

  it("blames 60 idle days only when the access went unused that long, never seconds after a renewal", () => {
    const renewed = new Date("2026-12-01T11:59:30Z");
    const recent = grantGoneWords({ lastRefreshedAt: renewed, connectedAt: null, lastErrorAt: at });
    expect(recent).not.toContain("unused");
    expect(recent).toContain("removed in Pipedrive");
    const idle = grantGoneWords({
      lastRefreshedAt: new Date("2026-09-01T12:00:00Z"),
      connectedAt: null,
      lastErrorAt: at,
    });
    expect(idle).toContain("left unused for 60 days");
    expect(grantGoneWords({ lastRefreshedAt: null, connectedAt: null, lastErrorAt: null })).toContain("left unused");
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

describe("one story per condition, whoever is told", () => {
  // What the caller, the mail and the page each say must point to the same remedy.
  const remedies = {
    needs_reconnect: /reconnect/i,
    host_unrecognised: /reconnect/i,
    needs_permissions: /reconnect/i,
    subscription_lapsed: /subscription/i,
    access_forbidden: /permission/i,
    unavailable: /operators/i,
  } as const;

  it.each(Object.entries(remedies))("%s: caller error, mail and view reason agree", async (kind, remedy) => {
    const { AppError } = await import("../errors.ts");
    const { messageFor } = await import("../notifications/messages.ts");
    const words = CONDITION_WORDS[kind as keyof typeof remedies];
    expect(words.caller).toMatch(remedy);
    // The error code a caller gets for this condition says the same words.
    const code = { host_unrecognised: "api_domain_invalid", unavailable: "app_credentials_rejected" }[kind] ?? kind;
    expect(new AppError(code as ConstructorParameters<typeof AppError>[0]).userMessage).toBe(words.caller);
    const event = kind === "needs_reconnect" ? "refresh_failed" : kind;
    if (words.mail) {
      const mail = messageFor(event as "refresh_failed", "Acme", "http://x/settings", at, {});
      expect(`${mail.subject}\n${mail.text}`).toMatch(remedy);
      expect(mail.subject).toBe(words.mail.subject("Acme"));
    }
    expect(words.viewReason).toMatch(kind === "subscription_lapsed" ? /subscription/i : /./);
  });
});
