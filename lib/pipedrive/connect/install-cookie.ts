import { createHash, randomBytes } from "node:crypto";

import { PENDING_TTL_MS } from "./pending-install-store.ts";

// The browser's hold on a grant waiting for an admin's confirmation (a Marketplace install, or a
// Reconnect that would switch Pipedrive user): a fresh random httpOnly cookie; the server keeps
// only its hash.

export const INSTALL_COOKIE = "pd_install";

export type InstallCookie = {
  name: string;
  value: string;
  options: { httpOnly: true; sameSite: "lax"; secure: boolean; path: "/"; maxAge: number };
};

export const hashOf = (cookie: string) => createHash("sha256").update(cookie).digest("hex");

/** A new cookie, and the hash its pending row is stored under. */
export function newInstallCookie(secure: boolean): { cookie: InstallCookie; browserHash: string } {
  const value = randomBytes(32).toString("base64url");
  return {
    cookie: {
      name: INSTALL_COOKIE,
      value,
      options: { httpOnly: true, sameSite: "lax", secure, path: "/", maxAge: PENDING_TTL_MS / 1000 },
    },
    browserHash: hashOf(value),
  };
}
