import { hashPassword } from "../../lib/auth/password.ts";
import { createDb } from "../../lib/db.ts";
import { ROUTES } from "../../lib/routes.ts";
import { DEMO_TENANT_ID, OTHER_TENANT_ID, SEED_USERS, type SeedUser } from "./demo-identities.ts";

export { DEMO_TENANT_ID, OTHER_TENANT_ID, SEED_USERS };

export const DEMO_TENANTS = [
  { id: DEMO_TENANT_ID, name: "Demo Workspace" },
  { id: OTHER_TENANT_ID, name: "Other Workspace" },
];

/**
 * Idempotent: creates what is missing, resets the users' passwords, touches nothing else. By
 * default the demo workspaces; the end-to-end suite seeds a copy per worker too.
 */
export async function seed(
  databaseUrl: string,
  tenants: { id: string; name: string }[] = DEMO_TENANTS,
  users: readonly SeedUser[] = SEED_USERS,
): Promise<{ created: boolean }> {
  const { db, close } = createDb(databaseUrl, 2);
  try {
    const existing = await db.tenant.count({ where: { id: { in: tenants.map((t) => t.id) } } });
    for (const tenant of tenants) await db.tenant.upsert({ where: { id: tenant.id }, create: tenant, update: {} });
    for (const user of users) {
      const passwordHash = await hashPassword(user.password);
      await db.user.upsert({
        where: { email: user.email },
        create: { tenantId: user.tenantId, email: user.email, passwordHash, role: user.role, name: user.name },
        update: { tenantId: user.tenantId, passwordHash, role: user.role, name: user.name },
      });
    }
    return { created: existing === 0 };
  } finally {
    await close();
  }
}

export function demoCredentialsText(appUrl: string): string {
  return [
    `Demo sign-in at ${appUrl}${ROUTES.signIn}:`,
    ...SEED_USERS.map(
      (u) =>
        `  ${u.email.padEnd(18)} ${u.password.padEnd(22)} (${u.role}, ${u.tenantId === DEMO_TENANT_ID ? "Demo Workspace" : "Other Workspace"})`,
    ),
  ].join("\n");
}
