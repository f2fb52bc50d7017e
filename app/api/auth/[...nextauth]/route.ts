// Auth.js endpoints (session, CSRF token, credentials callback, sign-out). Credentials sign-in
// here is throttled like the sign-in form: a client over a limit gets 429 with Retry-After.
import type { NextRequest } from "next/server";

import { handlers } from "@/lib/auth/auth.ts";
import { clientAddress, signInWait } from "@/lib/auth/throttle.ts";
import { NO_STORE } from "@/lib/http/responses.ts";

export const { GET } = handlers;

export async function POST(request: NextRequest) {
  if (new URL(request.url).pathname.endsWith("/callback/credentials")) {
    const form = await request
      .clone()
      .formData()
      .catch(() => null);
    const wait = await signInWait(form?.get("email"), clientAddress(request.headers));
    if (wait > 0) {
      return Response.json(
        { error: "too_many_attempts", retryAfterSeconds: wait },
        { status: 429, headers: { ...NO_STORE, "Retry-After": String(wait) } },
      );
    }
  }
  return handlers.POST(request);
}
