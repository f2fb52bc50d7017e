// Auth.js endpoints (session, CSRF token, credentials callback, sign-out). A credentials sign-in
// is throttled inside its authorize, as on the sign-in form; a paused client gets 429 with Retry-After.
// The session endpoint, GET and POST alike, answers from the same re-read as our pages: a
// signed-out or demoted user is seen as such here too, and nothing is re-issued.
import { NextRequest } from "next/server";

import { handlers } from "@/lib/auth/auth.ts";
import { currentUser, MAX_SIGN_IN_BYTES } from "@/lib/auth/session.ts";
import { pausedSeconds } from "@/lib/auth/throttle.ts";
import { formFieldsOf, readCapped, withBody } from "@/lib/http/body.ts";
import { NO_STORE } from "@/lib/http/responses.ts";

const isSession = (request: Request) => new URL(request.url).pathname.endsWith("/session");

// The Auth.js actions this app uses; anything else is answered here, before Auth.js would log an
// anonymous request for an unknown action or provider as an error.
const ACTIONS = {
  GET: ["session", "csrf", "providers", "signin", "signout", "error"],
  POST: ["callback/credentials", "signin/credentials", "signout", "session"],
};
const unknownAction = (request: Request, method: keyof typeof ACTIONS) =>
  !ACTIONS[method].includes(new URL(request.url).pathname.replace(/^.*?\/api\/auth\//, "").replace(/\/$/, ""));
const notFound = () => Response.json({ error: { code: "not_found" } }, { status: 404, headers: NO_STORE });

/** The session as the server knows it now, for GET and for POST (Auth.js's update): never re-issued. */
async function sessionAnswer(): Promise<Response> {
  const user = await currentUser();
  // Auth.js answers null for no session.
  if (!user) return Response.json(null, { headers: NO_STORE });
  return Response.json(
    { user: { name: user.name, email: user.email, role: user.role, tenantId: user.tenantId } },
    { headers: NO_STORE },
  );
}

export async function GET(request: NextRequest) {
  if (unknownAction(request, "GET")) return notFound();
  return isSession(request) ? sessionAnswer() : handlers.GET(request);
}

export async function POST(request: NextRequest) {
  if (unknownAction(request, "POST")) return notFound();
  if (isSession(request)) return sessionAnswer();
  const body = await readCapped(request, MAX_SIGN_IN_BYTES);
  if (body === null) return Response.json({ error: { code: "too_large" } }, { status: 413, headers: NO_STORE });
  // Auth.js parses a form body itself and answers 500 when it cannot: refuse what it could not read.
  const form = /^(multipart\/form-data|application\/x-www-form-urlencoded)/i.test(
    request.headers.get("content-type") ?? "",
  );
  if (form && (await formFieldsOf(request, body)) === null)
    return Response.json({ error: { code: "bad_request" } }, { status: 400, headers: NO_STORE });
  const response = await handlers.POST(new NextRequest(withBody(request, body)));
  const location = response.headers.get("location");
  const paused = location ? pausedSeconds(new URL(location, request.url).searchParams.get("code")) : null;
  if (paused === null) return response;
  return Response.json(
    { error: "too_many_attempts", retryAfterSeconds: paused },
    { status: 429, headers: { ...NO_STORE, "Retry-After": String(paused) } },
  );
}
