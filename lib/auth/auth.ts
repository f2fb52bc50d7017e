import NextAuth, { type DefaultSession } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { z } from "zod";
import { env } from "../env.ts";
import { describe } from "../errors.ts";
import { verifyCredentials } from "./credentials.ts";

declare module "next-auth" {
  interface Session {
    user: { id: string; tenantId: string; role: "admin" | "member" } & DefaultSession["user"];
  }
  interface User {
    tenantId?: string;
    role?: "admin" | "member";
  }
}

const tokenClaims = z.object({
  uid: z.uuid(),
  tid: z.uuid(),
  role: z.enum(["admin", "member"]),
});

export const { handlers, auth, signIn, signOut } = NextAuth(() => ({
  secret: env().AUTH_SECRET,
  trustHost: true,
  session: { strategy: "jwt", maxAge: 8 * 60 * 60 },
  pages: { signIn: "/sign-in", error: "/sign-in" },
  providers: [
    Credentials({
      credentials: { email: {}, password: {} },
      async authorize(raw) {
        const user = await verifyCredentials(raw);
        return user && { id: user.id, email: user.email, name: user.name, tenantId: user.tenantId, role: user.role };
      },
    }),
  ],
  callbacks: {
    jwt({ token, user }) {
      if (user) Object.assign(token, { uid: user.id, tid: user.tenantId, role: user.role });
      return token;
    },
    session({ session, token }) {
      const claims = tokenClaims.safeParse(token);
      if (claims.success) {
        Object.assign(session.user, { id: claims.data.uid, tenantId: claims.data.tid, role: claims.data.role });
      }
      return session;
    },
  },
  logger: {
    // A wrong password is an expected outcome, not an error worth a stack trace.
    error(error) {
      if (error.name === "CredentialsSignin") return;
      console.error("[auth]", describe(error));
    },
    warn() {},
  },
}));
