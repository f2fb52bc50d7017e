import { createHmac, randomBytes } from "node:crypto";

import { sameSecret } from "../crypto.ts";

// OWASP's "device cookie": a browser that signed in to an account gets a cookie naming a random
// device id, signed for that account. Presented again, it lets that browser be judged on its own
// sign-in limit, so failures from elsewhere (an attacker's rotating addresses) cannot keep the
// real user out. It proves only "this browser signed in to this account before", nothing more.

export const DEVICE_COOKIE_MAX_AGE = 365 * 24 * 3600;

export function deviceCookieName(secure: boolean): string {
  // __Host-: only ever set by us, over https, for the whole site.
  return secure ? "__Host-crm-device" : "crm-device";
}

const signature = (secret: string, account: string, id: string) =>
  createHmac("sha256", createHmac("sha256", secret).update("crm device cookie").digest())
    .update(`${account}\n${id}`)
    .digest("base64url");

/** A new cookie value for a browser that just signed in to `account`. */
export function issueDevice(secret: string, account: string): string {
  const id = randomBytes(16).toString("base64url");
  return `${id}.${signature(secret, account, id)}`;
}

/** The device id a cookie value names, if it was issued for `account`; null otherwise. */
export function deviceFor(secret: string, account: string, value: string | null | undefined): string | null {
  const match = value?.match(/^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/);
  if (!match) return null;
  return sameSecret(match[2]!, signature(secret, account, match[1]!)) ? match[1]! : null;
}

/** The cookie's value in a Cookie header, if present. */
export function deviceCookieFrom(cookieHeader: string | null, secure: boolean): string | null {
  const name = deviceCookieName(secure);
  for (const part of (cookieHeader ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return null;
}
