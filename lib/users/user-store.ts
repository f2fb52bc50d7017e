import { db } from "../db.ts";

export type UserRole = "admin" | "member";

export type TenantUser = {
  id: string;
  tenantId: string;
  email: string;
  name: string;
  role: UserRole;
  tenantName: string;
};

const select = {
  id: true,
  tenantId: true,
  email: true,
  name: true,
  role: true,
  tenant: { select: { name: true } },
} as const;

type Row = { id: string; tenantId: string; email: string; name: string; role: UserRole; tenant: { name: string } };
const toUser = ({ tenant, ...user }: Row): TenantUser => ({ ...user, tenantName: tenant.name });

/** Sign-in is the one lookup that comes before a tenant is known. */
export async function findUserForSignIn(email: string) {
  const row = await db().user.findUnique({ where: { email: email.toLowerCase() }, select: { ...select, passwordHash: true } });
  return row ? { user: toUser(row), passwordHash: row.passwordHash } : null;
}

/** The user as the database has it now, only if still in the tenant the session names. */
export async function findUserInTenant(userId: string, tenantId: string): Promise<TenantUser | null> {
  const row = await db().user.findFirst({ where: { id: userId, tenantId }, select });
  return row ? toUser(row) : null;
}
