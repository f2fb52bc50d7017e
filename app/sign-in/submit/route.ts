// The sign-in form's POST (it works without JavaScript): Auth.js's credentials sign-in, which is throttled.
import { AuthError, CredentialsSignin } from "next-auth";

import { signIn } from "@/lib/auth/auth.ts";
import { MAX_SIGN_IN_BYTES, safeReturnTo } from "@/lib/auth/session.ts";
import { pausedSeconds } from "@/lib/auth/throttle.ts";
import { formFieldsOf, readCapped } from "@/lib/http/body.ts";
import { htmlPage, isSameOrigin, NO_STORE, redirectTo } from "@/lib/http/responses.ts";

export async function POST(request: Request) {
  if (!isSameOrigin(request))
    return Response.json({ error: { code: "cross_site" } }, { status: 403, headers: NO_STORE });
  const body = await readCapped(request, MAX_SIGN_IN_BYTES);
  if (body === null) return Response.json({ error: { code: "too_large" } }, { status: 413, headers: NO_STORE });
  const form = new Map(await formFieldsOf(request, body));
  const email = form.get("email");
  const returnTo = safeReturnTo(form.get("callbackUrl"));
  // Throttling happens once, inside Auth.js's authorize; a pause comes back as the error's code.
  let failure: string | null = null;
  try {
    const landed = await signIn("credentials", {
      email: String(email ?? ""),
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
  const paused = pausedSeconds(failure);
  if (paused !== null) return tooManyAttempts(paused);
  return redirectTo(`/sign-in?${new URLSearchParams({ error: "invalid", callbackUrl: returnTo })}`, 303);
}

function tooManyAttempts(seconds: number): Response {
  const minutes = Math.ceil(seconds / 60);
  const when = seconds < 90 ? `${seconds} seconds` : `${minutes} minutes`;
  return htmlPage(
    429,
    "Too many sign-in attempts",
    `For your account's safety, sign-in is paused. Try again in ${when}.`,
    { href: "/sign-in", label: "Back to sign-in" },
    { "Retry-After": String(seconds) },
  );
}
