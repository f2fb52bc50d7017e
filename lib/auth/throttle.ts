import "server-only";

import { forget, LIMITS, spend, waitSeconds } from "../rate-limit-store.ts";
import type { TenantUser } from "../users/user-store.ts";
import { normalizeEmail, verifyCredentials } from "./credentials.ts";

// Sign-in throttling, shared by every instance: per client address, per account from that
// address (a short lockout, cleared by a success) and per account from anywhere (one minute,
// so an attacker cannot keep a real user out for long). Both sign-in paths go through here.

/**
 * The client's address: the entry of X-Forwarded-For nearest to us, which is what the proxy in
 * front appends (or what Next.js sets from the socket when there is none). An instance exposed
 * without a proxy can be told any address; the per-account limits hold regardless.
 */
export function clientAddress(headers: Headers): string {
  const forwarded = headers
    .get("x-forwarded-for")
    ?.split(",")
    .map((part) => part.trim())
    .filter(Boolean);
  return forwarded?.at(-1)?.slice(0, 64) ?? "unknown";
}

function keys(email: string, address: string) {
  return { address, account: email, accountAtAddress: `${email}|${address}` };
}

/** Seconds this attempt must wait before trying again; 0 when it may go ahead. */
export async function signInWait(rawEmail: unknown, address: string): Promise<number> {
  const k = keys(normalizeEmail(rawEmail), address);
  const waits = await Promise.all([
    waitSeconds(LIMITS.signInByAddress, k.address),
    waitSeconds(LIMITS.signInByAccountAndAddress, k.accountAtAddress),
    waitSeconds(LIMITS.signInByAccount, k.account),
  ]);
  return Math.max(...waits);
}

export type SignInAttempt = { user: TenantUser } | { wait: number } | { invalid: true };

/** Checks the limits, then the password; a failure counts against all three. */
export async function attemptSignIn(raw: unknown, address: string): Promise<SignInAttempt> {
  const email = normalizeEmail(raw && typeof raw === "object" && "email" in raw ? raw.email : "");
  const wait = await signInWait(email, address);
  if (wait > 0) return { wait };
  const user = await verifyCredentials(raw);
  const k = keys(email, address);
  if (user) {
    await forget(LIMITS.signInByAccountAndAddress, k.accountAtAddress);
    return { user };
  }
  await Promise.all([
    spend(LIMITS.signInByAddress, k.address),
    spend(LIMITS.signInByAccountAndAddress, k.accountAtAddress),
    spend(LIMITS.signInByAccount, k.account),
  ]);
  return { invalid: true };
}
