import { env } from "../env.ts";

// Helpers shared by route handlers, so each handler stays a short paragraph.

export const NO_STORE = { "Cache-Control": "no-store", "Referrer-Policy": "no-referrer" } as const;

/** A redirect to one of our own paths; never to a URL taken from input. */
export function redirectTo(path: `/${string}`, status: 302 | 303 = 302): Response {
  return new Response(null, { status, headers: { ...NO_STORE, Location: new URL(path, env().APP_URL).toString() } });
}

/**
 * Cross-site POSTs are refused. Browsers say where a request came from in Sec-Fetch-Site;
 * older ones only in Origin. When both are present both must say "us": Origin may only be
 * "null" (what Chromium sends from our no-referrer pages). SameSite=Lax session cookies
 * already stop most; this closes the rest.
 */
export function isSameOrigin(request: Request): boolean {
  const site = request.headers.get("sec-fetch-site");
  const origin = request.headers.get("origin");
  const ours = new URL(env().APP_URL).origin;
  if (site !== null && site !== "same-origin") return false;
  if (origin !== null && origin !== ours && !(origin === "null" && site === "same-origin")) return false;
  return site !== null || origin === ours;
}
