import type { Metadata } from "next";
import { redirect } from "next/navigation";

import { currentUser, safeReturnTo } from "@/lib/auth/session.ts";

export const metadata: Metadata = { title: "Sign in" };

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

export default async function SignInPage({ searchParams }: Props) {
  const query = await searchParams;
  const returnTo = safeReturnTo(query.callbackUrl);
  if (await currentUser()) redirect(returnTo);
  const failed = query.error !== undefined;

  return (
    <main className="auth">
      <section className="card auth-card" aria-labelledby="sign-in-title">
        <p className="brand">CRM</p>
        <h1 id="sign-in-title">Sign in</h1>
        {failed && (
          <div className="banner banner-error" role="alert">
            <div>
              <p className="banner-title">Sign-in failed</p>
              <p>That email and password do not match an account. Check them and try again.</p>
            </div>
          </div>
        )}
        <form method="post" action="/sign-in/submit" className="stack">
          <input type="hidden" name="callbackUrl" value={returnTo} />
          <div className="field">
            <label htmlFor="email">Email</label>
            <input id="email" name="email" type="email" autoComplete="username" required autoFocus />
          </div>
          <div className="field">
            <label htmlFor="password">Password</label>
            <input id="password" name="password" type="password" autoComplete="current-password" required />
          </div>
          <button type="submit" className="button button-primary">
            Sign in
          </button>
        </form>
      </section>
    </main>
  );
}
