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

export function htmlPage(
  status: number,
  title: string,
  message: string,
  link: { href: `/${string}`; label: string },
  headers: Record<string, string> = {},
): Response {
  const escape = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;background:#f6f7f9;color:#1b1f24}main{background:#fff;padding:2rem;border-radius:12px;max-width:30rem;box-shadow:0 1px 6px rgba(0,0,0,.08)}a{color:#0b5cad}</style>
</head><body><main><h1>${escape(title)}</h1><p>${escape(message)}</p><p><a href="${link.href}">${escape(link.label)}</a></p></main></body></html>`;
  return new Response(body, {
    status,
    headers: { ...NO_STORE, ...headers, "Content-Type": "text/html; charset=utf-8" },
  });
}
