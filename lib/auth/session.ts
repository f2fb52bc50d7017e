import "server-only";

import { redirect } from "next/navigation";
import { z } from "zod";

import { env } from "../env.ts";
import { findUserInTenant, type TenantUser } from "../users/user-store.ts";
import { auth } from "./auth.ts";

const sessionUser = z.object({ id: z.uuid(), tenantId: z.uuid(), sessionVersion: z.number().int() });

/**
 * The signed-in user, re-read from the database: a role change or removal takes effect
 * at once instead of when the JWT expires, and the tenant always comes from here.
 */
export async function currentUser(): Promise<TenantUser | null> {
  const session = await auth();
  const parsed = sessionUser.safeParse(session?.user);
  if (!parsed.success) return null;
  return findUserInTenant(parsed.data.id, parsed.data.tenantId, parsed.data.sessionVersion);
}

/**
 * The bench's floor route stands in this user for a session (BENCH_FLOOR_USER), re-read by the
 * same query as a session's user. Null, so a 404, whenever the setting is absent.
 */
export async function benchFloorUser(): Promise<TenantUser | null> {
  const floor = env().BENCH_FLOOR_USER;
  if (!floor) return null;
  const [userId, tenantId, version] = floor.split(":") as [string, string, string];
  return findUserInTenant(userId, tenantId, Number(version));
}

/** For pages: a signed-out visitor goes to sign-in and comes back to `returnTo`. */
export async function requirePageUser(returnTo: string): Promise<TenantUser> {
  const user = await currentUser();
  if (!user) redirect(`/sign-in?callbackUrl=${encodeURIComponent(safeReturnTo(returnTo))}`);
  return user;
}

export const HOME = "/settings/integrations";

/** After a failed sign-in, the email typed, for the form to keep (10 minutes, the sign-in page only). */
export const SIGN_IN_EMAIL_COOKIE = "crm-sign-in-email";

/** A sign-in form (email, password, return path) is far smaller; anything larger is refused unread. */
export const MAX_SIGN_IN_BYTES = 4096;

/**
 * Only a same-site path survives; anything that could leave the site
 * (`//evil`, `/\evil`, `https://…`, `javascript:`) falls back to HOME. The check runs on the
 * value we return, after normalisation: "/.//evil" normalises to "//evil".
 */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== "string" || !value.startsWith("/")) return HOME;
  try {
    const base = "http://return-to.invalid";
    const url = new URL(value, base);
    const path = `${url.pathname}${url.search}`;
    const sameSite = url.origin === base && path.startsWith("/") && !path.startsWith("//") && !path.includes("\\");
    return sameSite && new URL(path, base).origin === base ? path : HOME;
  } catch {
    return HOME;
  }
}
