import { z } from "zod";

/** What our session token carries, as Auth.js's jwt callback writes it. */
export const tokenClaims = z.object({
  uid: z.uuid(),
  tid: z.uuid(),
  role: z.enum(["admin", "member"]),
  sv: z.number().int().nonnegative(),
  /** When the user signed in (seconds): the session's absolute lifetime counts from here. */
  sat: z.number().int().positive(),
});

/** When a session signed in at `signedInAt` (seconds) ends for good, in ms. */
export const sessionEndsAt = (signedInAt: number, maxHours: number) => (signedInAt + maxHours * 3600) * 1000;

/** Auth.js's session cookie, and the salt its token is encrypted with. */
export const sessionCookieName = (secure: boolean) => `${secure ? "__Secure-" : ""}authjs.session-token`;
