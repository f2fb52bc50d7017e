// Every request: a fresh CSP nonce and the security headers. Next reads the nonce from the
// request's Content-Security-Policy and puts it on the scripts it renders.
import { NextResponse, type NextRequest } from "next/server";

import { env } from "./lib/env.ts";
import { isRequestId } from "./lib/http/request-id.ts";
import { isSameOrigin } from "./lib/http/responses.ts";
import { securityHeaders } from "./lib/http/security-headers.ts";

export function proxy(request: NextRequest) {
  const e = env();
  // A POST to a page is a server action; from another site it is refused here, before Next.js
  // would answer it with a 500 and an error in the log.
  if (request.method === "POST" && !isSameOrigin(request))
    return NextResponse.json(
      { error: { code: "cross_site" } },
      { status: 403, headers: { "Cache-Control": "no-store" } },
    );
  const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  const headers = securityHeaders({
    appUrl: e.APP_URL,
    oauthBaseUrl: e.PIPEDRIVE_OAUTH_BASE_URL,
    nonce,
    development: e.NODE_ENV === "development",
  });
  const forwarded = new Headers(request.headers);
  // One id per request, for every log line about it; a well-formed one from the proxy in front wins.
  const requestId = isRequestId(request.headers.get("x-request-id"))
    ? request.headers.get("x-request-id")!
    : crypto.randomUUID();
  forwarded.set("x-request-id", requestId);
  forwarded.set("x-nonce", nonce);
  forwarded.set("Content-Security-Policy", headers["Content-Security-Policy"]!);
  const response = NextResponse.next({ request: { headers: forwarded } });
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  response.headers.set("X-Request-Id", requestId);
  return response;
}

// Pages only. Next.js buffers the body of every request the proxy sees before any handler runs,
// so routes that take a body (all of /api and the sign-in form's POST) stay off it: their
// handlers answer from the headers first and read bodies only up to their caps. Their static
// security headers come from next.config.mjs; they render no scripts, so need no nonce.
export const config = {
  // Exact exclusions ($): anything beside them, a 404 included, still gets the headers.
  matcher: [{ source: "/((?!api/|sign-in/submit$|_next/static/|_next/image$|icon\\.svg$|favicon\\.ico$).*)" }],
};
