import { randomUUID } from "node:crypto";

import { encode } from "next-auth/jwt";
import { beforeAll, describe, expect, it, vi } from "vitest";

import { db } from "../db.ts";
import { env } from "../env.ts";
import { endSessions } from "../users/user-store.ts";
import { sessionCookieName } from "./session-token.ts";

// The request's cookies, as next/headers would give them to a page or a route.
const jar = new Map<string, string>();
vi.mock("next/headers", () => ({
  cookies: async () => ({ get: (name: string) => (jar.has(name) ? { name, value: jar.get(name)! } : undefined) }),
}));
const { currentUser, presentedSessionKey, verifiedSession } = await import("./session.ts");

const NAME = sessionCookieName(false);
let user: { id: string; tenantId: string };
beforeAll(async () => {
  const tenant = await db().tenant.create({ data: { name: "Session tenant" } });
  user = await db().user.create({
    data: { tenantId: tenant.id, email: `s-${randomUUID()}@session.test`, passwordHash: "x", role: "admin", name: "S" },
  });
});

/** A token as Auth.js's sign-in writes it (the jwt callback's claims, Auth.js's own encode). */
const token = (claims: Record<string, unknown> = {}, options: { secret?: string; maxAge?: number } = {}) =>
  encode({
    salt: NAME,
    secret: options.secret ?? env().AUTH_SECRET,
    maxAge: options.maxAge,
    token: {
      sub: user.id,
      uid: user.id,
      tid: user.tenantId,
      role: "admin",
      sv: 0,
      sat: Math.floor(Date.now() / 1000),
      ...claims,
    },
  });

const withCookies = (cookies: Record<string, string>) => {
  jar.clear();
  for (const [name, value] of Object.entries(cookies)) jar.set(name, value);
  return currentUser();
};

describe("the signed-in user, read from Auth.js's session cookie", () => {
  it("is the user the token names, re-read from the database", async () => {
    expect(await withCookies({ [NAME]: await token() })).toMatchObject({ id: user.id, tenantId: user.tenantId });
  });

  it("reads a token Auth.js split over several cookies", async () => {
    const whole = await token();
    const half = Math.ceil(whole.length / 2);
    expect(await withCookies({ [`${NAME}.0`]: whole.slice(0, half), [`${NAME}.1`]: whole.slice(half) })).toMatchObject({
      id: user.id,
    });
  });

  it("is nobody for no cookie, a changed byte, another secret, an expired token or another tenant", async () => {
    expect(await withCookies({})).toBeNull();
    const good = await token();
    const flipped = good.slice(0, -5) + (good.at(-5) === "A" ? "B" : "A") + good.slice(-4);
    expect(await withCookies({ [NAME]: flipped })).toBeNull();
    expect(
      await withCookies({ [NAME]: await token({}, { secret: "another-secret-another-secret-another" }) }),
    ).toBeNull();
    // Past Auth.js's 15 s clock tolerance.
    expect(await withCookies({ [NAME]: await token({}, { maxAge: -60 }) })).toBeNull();
    expect(await withCookies({ [NAME]: await token({ tid: randomUUID() }) })).toBeNull();
    expect(await withCookies({ [NAME]: await token({ uid: "not-a-uuid" }) })).toBeNull();
  });

  it("remembers a decrypted token only for that exact token, and only until it expires", async () => {
    const good = await token({}, { maxAge: 30 });
    expect(await withCookies({ [NAME]: good })).toMatchObject({ id: user.id });
    const flipped = good.slice(0, -5) + (good.at(-5) === "A" ? "B" : "A") + good.slice(-4);
    expect(await withCookies({ [NAME]: flipped })).toBeNull();
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      // Past expiry and Auth.js's 15 s clock tolerance.
      vi.setSystemTime(Date.now() + 50_000);
      expect(await withCookies({ [NAME]: good })).toBeNull();
    } finally {
      vi.useRealTimers();
    }
    expect(await withCookies({ [NAME]: good })).toMatchObject({ id: user.id });
  });

  it("is nobody once the user signed out everywhere (the session version moved on)", async () => {
    const before = await token();
    await endSessions(user.id);
    expect(await withCookies({ [NAME]: before })).toBeNull();
    expect(await withCookies({ [NAME]: await token({ sv: 1 }) })).toMatchObject({ id: user.id });
  });

  it("records a session by a key the same token presents again, never for a token that fails its check", async () => {
    const good = await token({}, { maxAge: 600 });
    jar.clear();
    jar.set(NAME, good);
    const recorded = await verifiedSession();
    expect(recorded?.key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(recorded?.key).not.toContain(good.slice(0, 20));
    expect(recorded!.expiresAt.getTime()).toBeGreaterThan(Date.now() + 590_000);
    expect(await presentedSessionKey()).toBe(recorded?.key);

    const flipped = good.slice(0, -5) + (good.at(-5) === "A" ? "B" : "A") + good.slice(-4);
    jar.set(NAME, flipped);
    expect(await verifiedSession()).toBeNull();
    expect(await presentedSessionKey()).not.toBe(recorded?.key);
    jar.set(NAME, await token({}, { secret: "another-secret-another-secret-another" }));
    expect(await verifiedSession()).toBeNull();
    jar.clear();
    expect(await verifiedSession()).toBeNull();
    expect(await presentedSessionKey()).toBeNull();
  });

  it("ends at its absolute lifetime from sign-in, however fresh its token, and never records past it", async () => {
    const hours = env().SESSION_MAX_HOURS;
    // The test before this one signed the user out everywhere once.
    const sv = (await db().user.findUniqueOrThrow({ where: { id: user.id } })).sessionVersion;
    const now = Math.floor(Date.now() / 1000);
    // A token re-issued a minute ago (fresh exp) for a sign-in one minute short of the lifetime.
    const nearEnd = await token({ sv, sat: now - hours * 3600 + 60 }, { maxAge: 8 * 3600 });
    expect(await withCookies({ [NAME]: nearEnd })).toMatchObject({ id: user.id });
    jar.set(NAME, nearEnd);
    const recorded = await verifiedSession();
    expect(recorded!.expiresAt.getTime()).toBeLessThanOrEqual((now + 60) * 1000);

    expect(
      await withCookies({ [NAME]: await token({ sv, sat: now - hours * 3600 - 1 }, { maxAge: 8 * 3600 }) }),
    ).toBeNull();
    // A token with no sign-in time was issued before the lifetime existed: it is not believed.
    expect(await withCookies({ [NAME]: await token({ sv, sat: undefined }) })).toBeNull();
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      // The cache holds it no longer than the lifetime either.
      vi.setSystemTime(Date.now() + 61_000);
      expect(await withCookies({ [NAME]: nearEnd })).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });
});
