import { createHash, createHmac, hkdfSync, randomBytes } from "node:crypto";

import { sameSecret } from "../../crypto.ts";

// state = <nonce>.<mac>. The nonce (256 random bits) names a server-side row that binds the
// flow to its user and tenant and makes it single-use; the MAC lets us refuse forged or
// mangled states before touching the database. The nonce is stored only as a hash.

const PART = /^[A-Za-z0-9_-]{43}$/;

export function stateKey(secret: string): Buffer {
  return Buffer.from(hkdfSync("sha256", secret, "crm-pipedrive", "pipedrive-oauth-state-v1", 32));
}

function mac(key: Buffer, nonce: string): string {
  return createHmac("sha256", key).update(nonce).digest("base64url");
}

export function hashNonce(nonce: string): string {
  return createHash("sha256").update(nonce).digest("hex");
}

export function issueState(key: Buffer): { state: string; nonceHash: string } {
  const nonce = randomBytes(32).toString("base64url");
  return { state: `${nonce}.${mac(key, nonce)}`, nonceHash: hashNonce(nonce) };
}

/** The nonce hash of a well-formed, correctly signed state; null otherwise. */
export function verifyState(key: Buffer, state: string): string | null {
  const [nonce, signature, extra] = state.split(".");
  if (extra !== undefined || !nonce || !signature || !PART.test(nonce) || !PART.test(signature)) return null;
  if (!sameSecret(signature, mac(key, nonce))) return null;
  return hashNonce(nonce);
}
