import { z } from "zod";

/** What our session token carries, as Auth.js's jwt callback writes it. */
export const tokenClaims = z.object({
  uid: z.uuid(),
  tid: z.uuid(),
  role: z.enum(["admin", "member"]),
  sv: z.number().int().nonnegative(),
});

/** Auth.js's session cookie, and the salt its token is encrypted with. */
export const sessionCookieName = (secure: boolean) => `${secure ? "__Secure-" : ""}authjs.session-token`;
