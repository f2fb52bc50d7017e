import "server-only";

import { z } from "zod";

import { findUserForSignIn, type TenantUser } from "../users/user-store.ts";
import { verifyPassword } from "./password.ts";

/** The account key for throttling: the email as sign-in compares it, or "" when there is none. */
export function normalizeEmail(raw: unknown): string {
  return typeof raw === "string" ? raw.trim().toLowerCase().slice(0, 320) : "";
}

const credentialsSchema = z.object({
  email: z.string().trim().toLowerCase().pipe(z.email()).pipe(z.string().max(320)),
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
