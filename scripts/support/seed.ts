import { hashPassword } from "../../lib/auth/password.ts";
import { createDb } from "../../lib/db.ts";
import { ROUTES } from "../../lib/routes.ts";
import { DEMO_TENANT_ID, OTHER_TENANT_ID, SEED_USERS } from "./demo-identities.ts";

export { DEMO_TENANT_ID, OTHER_TENANT_ID, SEED_USERS };

/** Idempotent: creates what is missing, resets the demo users' passwords, touches nothing else. */
export async function seed(databaseUrl: string): Promise<{ created: boolean }> {
  const { db, close } = createDb(databaseUrl, 2);
  try {
    const existing = await db.tenant.count({ where: { id: { in: [DEMO_TENANT_ID, OTHER_TENANT_ID] } } });
    await db.tenant.upsert({
      where: { id: DEMO_TENANT_ID },
      create: { id: DEMO_TENANT_ID, name: "Demo Workspace" },
      update: {},
    });
    await db.tenant.upsert({
      where: { id: OTHER_TENANT_ID },
      create: { id: OTHER_TENANT_ID, name: "Other Workspace" },
      update: {},
    });
    for (const user of SEED_USERS) {
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
