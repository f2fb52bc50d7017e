import { createHash, createHmac, timingSafeEqual } from "node:crypto";

// The project's hashes and comparisons of secrets, in one place.

/** A short, fixed-length keyed hash of `value` for `purpose`: a stable key that reveals nothing of it. */
export function keyedHash(secret: string, purpose: string, value: string): string {
  return createHmac("sha256", `${purpose}\u0000${secret}`).update(value).digest("base64url").slice(0, 32);
}

/** Whether two secrets are equal, in time that depends on neither (hashed first: lengths may differ). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}
