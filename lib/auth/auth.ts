import "server-only";

import NextAuth, { type DefaultSession, type NextAuthConfig } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { cookies } from "next/headers";

import { env, type Env } from "../env.ts";
import { describe } from "../errors.ts";
import { log } from "../log.ts";
import { ROUTES } from "../routes.ts";
import { endSessions } from "../users/user-store.ts";
import { DEVICE_COOKIE_MAX_AGE, deviceCookieFrom, deviceCookieName } from "./device-cookie.ts";
import { sessionEndsAt, tokenClaims } from "./session-token.ts";
import {
  checkCredentialsWithinLimits,
  requestAddress,
  SignInFailed,
  SignInPaused,
  WARN_AT_TRIES_LEFT,
} from "./throttle.ts";

declare module "next-auth" {
  interface Session {
    user: { id: string; tenantId: string; role: "admin" | "member"; sessionVersion: number } & DefaultSession["user"];
  }
  interface User {
    tenantId?: string;
    role?: "admin" | "member";
    sessionVersion?: number;
  }
}

/** Auth.js errors a request alone can cause: a missing CSRF token, a forged or stale cookie, a bad URL. */
const REQUEST_ERRORS = new Set([
  "MissingCSRF",
  "UnknownAction",
  "InvalidProvider",
  "InvalidCallbackUrl",
  "InvalidCheck",
  "JWTSessionError",
  "SessionTokenError",
]);

/** Auth.js's configuration, from our settings. */
export function authOptions(e: Env = env()): NextAuthConfig {
  return {
    secret: e.AUTH_SECRET,
    trustHost: true,
    // Secure cookies follow APP_URL, as the OAuth state cookie does, not a proxy's X-Forwarded-Proto.
    useSecureCookies: e.secureCookies,
    // The cookie lives as long as a session may (SESSION_MAX_HOURS, from sign-in): one setting.
    session: { strategy: "jwt", maxAge: e.SESSION_MAX_HOURS * 60 * 60 },
    pages: { signIn: ROUTES.signIn, error: ROUTES.signIn },
    providers: [
      Credentials({
        credentials: { email: {}, password: {} },
        async authorize(raw, request) {
          const device = deviceCookieFrom(request.headers.get("cookie"), e.secureCookies);
          const attempt = await checkCredentialsWithinLimits(raw, { address: requestAddress(request.headers), device });
          if ("wait" in attempt) throw new SignInPaused(attempt.wait);
          if ("triesLeft" in attempt) {
            if (attempt.triesLeft <= WARN_AT_TRIES_LEFT) throw new SignInFailed(attempt.triesLeft);
            return null;
          }
          const { user } = attempt;
          (await cookies()).set(deviceCookieName(e.secureCookies), attempt.device, {
            httpOnly: true,
            sameSite: "lax",
            secure: e.secureCookies,
            path: "/",
            maxAge: DEVICE_COOKIE_MAX_AGE,
          });
          return {
            id: user.id,
            email: user.email,
            name: user.name,
            tenantId: user.tenantId,
            role: user.role,
            sessionVersion: user.sessionVersion,
          };
        },
      }),
    ],
    callbacks: {
      jwt({ token, user }) {
        if (user) {
          const sat = Math.floor(Date.now() / 1000);
          return Object.assign(token, {
            uid: user.id,
            tid: user.tenantId,
            role: user.role,
            sv: user.sessionVersion,
            sat,
          });
        }
        // Every re-issue (the session endpoint's update included) stops at the absolute lifetime:
        // null ends the session and clears the cookie instead of sliding it on.
        const claims = tokenClaims.safeParse(token);
        if (!claims.success || sessionEndsAt(claims.data.sat, e.SESSION_MAX_HOURS) <= Date.now()) return null;
        return token;
      },
      session({ session, token }) {
        const claims = tokenClaims.safeParse(token);
        if (claims.success) {
          Object.assign(session.user, {
            id: claims.data.uid,
            tenantId: claims.data.tid,
            role: claims.data.role,
            sessionVersion: claims.data.sv,
          });
        }
        return session;
      },
    },
    events: {
      // Signing out ends the session on the server too: a copied cookie stops working.
      async signOut(message) {
        const claims = "token" in message ? tokenClaims.safeParse(message.token) : null;
        if (claims?.success) await endSessions(claims.data.uid);
      },
    },
    logger: {
      // A wrong password is an expected outcome, not worth a log line; what any anonymous request
      // can cause is a warning, not an error an operator is paged for. Matched on the error's
      // `type`, a string literal: class names are minified away in the production build.
      error(error) {
        const type = "type" in error ? String(error.type) : "";
        if (type === "CredentialsSignin") return;
        if (REQUEST_ERRORS.has(type)) log().warn({ error: type }, "auth request refused");
        else log().error({ error: describe(error) }, "auth error");
      },
      warn() {},
    },
  };
}

export const { handlers, auth, signIn, signOut } = NextAuth(() => authOptions());
