import { AuthError, CredentialsSignin } from "next-auth";
import { cookies } from "next/headers";

import { env } from "../env.ts";
import { formFieldsOf, readCapped } from "../http/body.ts";
import { isSameOrigin, NO_STORE, redirectTo } from "../http/responses.ts";
import { ROUTES } from "../routes.ts";
import { signIn } from "./auth.ts";
import { MAX_SIGN_IN_BYTES, safeReturnTo, SIGN_IN_EMAIL_COOKIE } from "./session.ts";
import { pausedSeconds, triesLeft } from "./throttle.ts";

// The sign-in form's POST (it works without JavaScript), in the three steps its route takes.

export type SignInForm = { email: string; password: string; returnTo: `/${string}` };

/** The posted form, or a JSON refusal for a post that no page of ours sends. */
export async function readSignInForm(request: Request): Promise<SignInForm | Response> {
  const refuse = (code: string, status: number) => Response.json({ error: { code } }, { status, headers: NO_STORE });
  if (!isSameOrigin(request)) return refuse("cross_site", 403);
  const body = await readCapped(request, MAX_SIGN_IN_BYTES);
  if (body === null) return refuse("too_large", 413);
  const fields = await formFieldsOf(request, body);
  if (fields === null) return refuse("bad_request", 400);
  const form = new Map(fields);
  return {
    email: String(form.get("email") ?? ""),
    password: String(form.get("password") ?? ""),
    returnTo: safeReturnTo(form.get("callbackUrl")) as `/${string}`,
  };
}

/**
 * Auth.js's credentials sign-in: null when it succeeded, else why not. Throttling happens once,
 * inside Auth.js's authorize; a pause comes back as the error's code.
 */
export async function attemptSignIn(form: SignInForm): Promise<string | null> {
  try {
    const landed = await signIn("credentials", { email: form.email, password: form.password, redirect: false });
    const params = typeof landed === "string" ? new URL(landed, "http://x").searchParams : null;
    return params?.has("error") ? (params.get("code") ?? "credentials") : null;
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
    return error instanceof CredentialsSignin ? error.code : "credentials";
  }
}

/**
 * Back to the sign-in page, which keeps the email (in a short-lived cookie, never the URL) and
 * says how many tries are left, or until when sign-in is paused.
 */
export async function refuseSignIn(form: SignInForm, failure: string): Promise<Response> {
  (await cookies()).set(SIGN_IN_EMAIL_COOKIE, form.email.slice(0, 320), {
    httpOnly: true,
    sameSite: "lax",
    secure: env().secureCookies,
    path: ROUTES.signIn,
    maxAge: 600,
  });
  const query = new URLSearchParams({ callbackUrl: form.returnTo });
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
