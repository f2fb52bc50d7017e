// The sign-in form's POST (it works without JavaScript): Auth.js's credentials sign-in, which is
// throttled. A failure goes back to the sign-in page, which keeps the email (in a short-lived
// cookie, never the URL), says how many tries are left, or until when sign-in is paused.
import { AuthError, CredentialsSignin } from "next-auth";
import { cookies } from "next/headers";

import { signIn } from "@/lib/auth/auth.ts";
import { MAX_SIGN_IN_BYTES, safeReturnTo, SIGN_IN_EMAIL_COOKIE } from "@/lib/auth/session.ts";
import { pausedSeconds, triesLeft } from "@/lib/auth/throttle.ts";
import { env } from "@/lib/env.ts";
import { formFieldsOf, readCapped } from "@/lib/http/body.ts";
import { isSameOrigin, NO_STORE, redirectTo } from "@/lib/http/responses.ts";
import { ROUTES } from "@/lib/routes.ts";

export async function POST(request: Request) {
  if (!isSameOrigin(request))
    return Response.json({ error: { code: "cross_site" } }, { status: 403, headers: NO_STORE });
  const body = await readCapped(request, MAX_SIGN_IN_BYTES);
  if (body === null) return Response.json({ error: { code: "too_large" } }, { status: 413, headers: NO_STORE });
  const fields = await formFieldsOf(request, body);
  if (fields === null) return Response.json({ error: { code: "bad_request" } }, { status: 400, headers: NO_STORE });
  const form = new Map(fields);
  const email = String(form.get("email") ?? "");
  const returnTo = safeReturnTo(form.get("callbackUrl"));
  // Throttling happens once, inside Auth.js's authorize; a pause comes back as the error's code.
  let failure: string | null = null;
  try {
    const landed = await signIn("credentials", {
      email,
      password: String(form.get("password") ?? ""),
      redirect: false,
    });
    const params = typeof landed === "string" ? new URL(landed, "http://x").searchParams : null;
    if (params?.has("error")) failure = params.get("code") ?? "credentials";
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
    failure = error instanceof CredentialsSignin ? error.code : "credentials";
  }
  if (failure === null) return redirectTo(returnTo as `/${string}`, 303);

  (await cookies()).set(SIGN_IN_EMAIL_COOKIE, email.slice(0, 320), {
    httpOnly: true,
    sameSite: "lax",
    secure: env().secureCookies,
    path: ROUTES.signIn,
    maxAge: 600,
  });
  const query = new URLSearchParams({ callbackUrl: returnTo });
  const paused = pausedSeconds(failure);
  if (paused !== null) {
    query.set("error", "paused");
    query.set("until", String(Math.ceil(Date.now() / 1000) + paused));
    const answer = redirectTo(`${ROUTES.signIn}?${query}`, 303);
    answer.headers.set("Retry-After", String(paused));
    return answer;
  }
  query.set("error", "invalid");
  const left = triesLeft(failure);
  if (left !== null) query.set("left", String(left));
  return redirectTo(`${ROUTES.signIn}?${query}`, 303);
}
