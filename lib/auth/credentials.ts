import "server-only";

import { z } from "zod";

import { findUserForSignIn, type TenantUser } from "../users/user-store.ts";
import { verifyPassword } from "./password.ts";

/**
 * The account key for throttling: the email as sign-in compares it, or "" when there is none.
 * Control characters (a NUL byte among them, which PostgreSQL refuses in text) make it no email.
 */
export function normalizeEmail(raw: unknown): string {
  if (typeof raw !== "string" || /[\u0000-\u001f\u007f]/.test(raw)) return "";
  return raw.trim().toLowerCase().slice(0, 320);
}

const credentialsSchema = z.object({
  email: z
    .string()
    .refine((email) => normalizeEmail(email) !== "")
    .transform(normalizeEmail)
    .pipe(z.email()),
  password: z.string().min(1).max(200),
});

/** The user these credentials belong to, or null. Unknown emails cost a hash like wrong passwords. */
export async function verifyCredentials(raw: unknown): Promise<TenantUser | null> {
  const parsed = credentialsSchema.safeParse(raw);
  if (!parsed.success) return null;
  const found = await findUserForSignIn(parsed.data.email);
  const valid = await verifyPassword(parsed.data.password, found?.passwordHash ?? null);
  return found && valid ? found.user : null;
}
