// Auth.js endpoints (session, CSRF token, credentials callback, sign-out). A credentials sign-in
// is throttled inside its authorize, as on the sign-in form; a paused client gets 429 with Retry-After.
import type { NextRequest } from "next/server";

import { handlers } from "@/lib/auth/auth.ts";
import { pausedSeconds } from "@/lib/auth/throttle.ts";
import { NO_STORE } from "@/lib/http/responses.ts";

export const { GET } = handlers;

export async function POST(request: NextRequest) {
  const response = await handlers.POST(request);
  const location = response.headers.get("location");
  const paused = location ? pausedSeconds(new URL(location, request.url).searchParams.get("code")) : null;
  if (paused === null) return response;
  return Response.json(
    { error: "too_many_attempts", retryAfterSeconds: paused },
    { status: 429, headers: { ...NO_STORE, "Retry-After": String(paused) } },
  );
}
