import type { Metadata } from "next";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";

import { When } from "@/app/components/when.tsx";
import { currentUser, safeReturnTo, SIGN_IN_EMAIL_COOKIE } from "@/lib/auth/session.ts";
import { env } from "@/lib/env.ts";
import { ROUTES } from "@/lib/routes.ts";

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

/** What the last attempt came back with, read from the query (only these values mean anything). */
function failureOf(query: Record<string, string | string[] | undefined>, now: Date) {
  if (query.error === "paused") {
    const until = Number(query.until) * 1000;
    // A forged query can only move the time within the longest pause (a day: the daily cap).
    const end = Number.isFinite(until) ? Math.min(until, now.getTime() + 24 * 60 * 60_000) : now.getTime();
    return { kind: "paused" as const, until: end > now.getTime() ? new Date(end) : null };
  }
  if (query.error !== undefined) {
    const left = Number(query.left);
    return { kind: "invalid" as const, triesLeft: Number.isInteger(left) && left >= 1 && left <= 2 ? left : null };
  }
  return null;
}

export async function generateMetadata({ searchParams }: Props): Promise<Metadata> {
  const failure = failureOf(await searchParams, new Date());
  if (failure?.kind === "paused") return { title: "Sign-in paused · Sign in" };
  if (failure) return { title: "Sign-in failed · Sign in" };
  if (safeReturnTo((await searchParams).callbackUrl) === ROUTES.install)
    return { title: "Sign in to finish installing Pipedrive" };
  return { title: "Sign in" };
}

export default async function SignInPage({ searchParams }: Props) {
  const query = await searchParams;
  const returnTo = safeReturnTo(query.callbackUrl);
  if (await currentUser()) redirect(returnTo);
  const failure = failureOf(query, new Date());
  const email = failure ? ((await cookies()).get(SIGN_IN_EMAIL_COOKIE)?.value ?? "") : "";
  // Sent here by a Marketplace install: say so, and where someone without an account goes.
  const installing = returnTo === ROUTES.install;
  const signUpUrl = installing ? env().SIGN_UP_URL : undefined;

  return (
    <main className="auth">
      <section className="card auth-card" aria-labelledby="sign-in-title">
        <p className="brand">CRM</p>
        <h1 id="sign-in-title">{installing ? "Sign in to finish installing Pipedrive" : "Sign in"}</h1>
        {installing && (
          <p className="muted">
            Pipedrive sent you here to connect it to your CRM workspace. Sign in as an admin of that workspace; you will
            see whose Pipedrive account it is before anything is connected.
          </p>
        )}
        {failure?.kind === "invalid" && (
          <div className="banner banner-error" role="alert">
            <div>
              <p className="banner-title">Sign-in failed</p>
              <p>That email and password do not match an account. Check them and try again.</p>
              {failure.triesLeft !== null && (
                <p>
                  {failure.triesLeft === 1 ? "1 try" : `${failure.triesLeft} tries`} left before sign-in pauses for a
                  few minutes.
                </p>
              )}
            </div>
          </div>
        )}
        {failure?.kind === "paused" && (
          <div className="banner banner-error" role="alert">
            <div>
              <p className="banner-title">Sign-in is paused</p>
              {failure.until ? (
                <p>
                  After several wrong passwords, sign-in is paused for your account&apos;s safety until{" "}
                  <When date={failure.until} seconds />. Try again then.
                </p>
              ) : (
                <p>The pause is over: you can try again now.</p>
              )}
            </div>
          </div>
        )}
        <form method="post" action={ROUTES.signInSubmit} className="stack">
          <input type="hidden" name="callbackUrl" value={returnTo} />
          <div className="field">
            <label htmlFor="email">Email</label>
            <input
              id="email"
              name="email"
              type="email"
              autoComplete="username"
              required
              defaultValue={email}
              autoFocus={!email}
            />
          </div>
          <div className="field">
            <label htmlFor="password">Password</label>
            <input
              id="password"
              name="password"
              type="password"
              autoComplete="current-password"
              required
              autoFocus={Boolean(email)}
            />
          </div>
          <button type="submit" className="button button-primary">
            Sign in
          </button>
        </form>
        {installing && (
          <p className="muted">
            No CRM account yet? Ask your workspace admin for an invite
            {signUpUrl ? (
              <>
                , or <a href={signUpUrl}>sign up for the CRM</a>
              </>
            ) : null}
            .
          </p>
        )}
      </section>
    </main>
  );
}
