import "server-only";

import { createHash } from "node:crypto";

import { LRUCache } from "lru-cache";
import { decode } from "next-auth/jwt";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import type { z } from "zod";

import { env } from "../env.ts";
import { ROUTES, signInUrl } from "../routes.ts";
import { findUserInTenant, type TenantUser } from "../users/user-store.ts";
import { sessionCookieName, sessionEndsAt, tokenClaims } from "./session-token.ts";

/**
 * The signed-in user, re-read from the database: a role change or removal takes effect
 * at once instead of when the JWT expires, and the tenant always comes from here.
 *
 * The session cookie is decrypted with Auth.js's own `decode`, not through `auth()`: called
 * outside a request Auth.js handles, `auth()` runs its whole session action, which re-encrypts a
 * renewed token that cannot be sent from here and is thrown away (a third of a page view's crypto).
 */
export async function currentUser(): Promise<TenantUser | null> {
  const session = await presentedSession();
  if (!session) return null;
  const verified = await verifiedClaims(session);
  if (!verified) return null;
  const { claims } = verified;
  return findUserInTenant(claims.uid, claims.tid, claims.sv);
}

type Presented = { token: string; key: string; secret: string; salt: string };

/** The session token this request carries, and its key: a hash of secret, salt and token. */
async function presentedSession(): Promise<Presented | null> {
  // Cookies first: reading them is what tells Next.js the caller is dynamic, before any setting is needed.
  const jar = await cookies();
  const e = env();
  const salt = sessionCookieName(e.secureCookies);
  const token = sessionToken(jar, salt);
  if (!token) return null;
  const key = createHash("sha256").update(`${e.AUTH_SECRET}\u0000${salt}\u0000${token}`).digest("base64url");
  return { token, key, secret: e.AUTH_SECRET, salt };
}

/**
 * The session key this request presents, unverified: it proves nothing on its own, only that
 * the token is byte for byte one verified before, where that verification was recorded.
 */
export async function presentedSessionKey(): Promise<string | null> {
  return (await presentedSession())?.key ?? null;
}

export type VerifiedSession = { key: string; expiresAt: Date };

/** The verified session this request carries, for a record that a later request will recognise. */
export async function verifiedSession(): Promise<VerifiedSession | null> {
  const session = await presentedSession();
  if (!session) return null;
  const verified = await verifiedClaims(session);
  return verified ? { key: session.key, expiresAt: new Date(verified.expiresAt) } : null;
}

type Claims = z.infer<typeof tokenClaims>;

/**
 * Tokens this process has already decrypted, by a hash of secret, salt and token, until they
 * expire (an hour at most). Auth.js's decode is about a dozen WebCrypto jobs (HKDF, HMAC, AES)
 * per request; a hit is exactly as trustworthy as the decode it saved, and the session version
 * is still re-read every time.
 */
const decoded = new LRUCache<string, { claims: Claims; expiresAt: number }>({ max: 10_000, ttl: 60 * 60 * 1000 });

/** The token's claims, and when the session ends (ms): its token's expiry or its absolute lifetime, whichever is first. */
async function verifiedClaims({
  token,
  key,
  secret,
  salt,
}: Presented): Promise<{ claims: Claims; expiresAt: number } | null> {
  const known = decoded.get(key);
  // The same clock decode checks exp with.
  if (known && known.expiresAt > Date.now()) return known;
  const payload = await decode({ token, secret, salt }).catch(() => null);
  const claims = tokenClaims.safeParse(payload);
  if (!claims.success) return null;
  // A session ends at its absolute lifetime even where its token (re-issued since) says later.
  const ends = sessionEndsAt(claims.data.sat, env().SESSION_MAX_HOURS);
  const expiresAt = Math.min(typeof payload?.exp === "number" ? payload.exp * 1000 : ends, ends);
  if (expiresAt <= Date.now()) return null;
  decoded.set(key, { claims: claims.data, expiresAt });
  return { claims: claims.data, expiresAt };
}

/** Auth.js splits a token over `name.0`, `name.1`, … when it outgrows one cookie. */
function sessionToken(jar: { get(name: string): { value: string } | undefined }, name: string): string | null {
  const whole = jar.get(name)?.value;
  if (whole) return whole;
  let joined = "";
  for (let i = 0; jar.get(`${name}.${i}`); i++) joined += jar.get(`${name}.${i}`)!.value;
  return joined || null;
}

/** For pages: a signed-out visitor goes to sign-in and comes back to `returnTo`. */
export async function requirePageUser(returnTo: string): Promise<TenantUser> {
  const user = await currentUser();
  if (!user) redirect(signInUrl(safeReturnTo(returnTo)));
  return user;
}

/** After a failed sign-in, the email typed, for the form to keep (10 minutes, the sign-in page only). */
export const SIGN_IN_EMAIL_COOKIE = "crm-sign-in-email";

/** A sign-in form (email, password, return path) is far smaller; anything larger is refused unread. */
export const MAX_SIGN_IN_BYTES = 4096;

/**
 * Only a same-site path survives; anything that could leave the site
 * (`//evil`, `/\evil`, `https://…`, `javascript:`) falls back to ROUTES.settings. The check runs on the
 * value we return, after normalisation: "/.//evil" normalises to "//evil".
 */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== "string" || !value.startsWith("/")) return ROUTES.settings;
  try {
    const base = "http://return-to.invalid";
    const url = new URL(value, base);
    const path = `${url.pathname}${url.search}`;
    const sameSite = url.origin === base && path.startsWith("/") && !path.startsWith("//") && !path.includes("\\");
    return sameSite && new URL(path, base).origin === base ? path : ROUTES.settings;
  } catch {
    return ROUTES.settings;
  }
}
