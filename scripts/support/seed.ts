import { hashPassword } from "../../lib/auth/password.ts";
import { createDb } from "../../lib/db.ts";

// Fixed ids so tests, docs and the enrichment CLI can name the demo tenants.
export const DEMO_TENANT_ID = "11111111-1111-4111-8111-111111111111";
export const OTHER_TENANT_ID = "22222222-2222-4222-8222-222222222222";

export const SEED_USERS = [
  {
    tenantId: DEMO_TENANT_ID,
    email: "admin@demo.test",
    password: "demo-admin-password",
    role: "admin",
    name: "Dana Admin",
  },
  {
    tenantId: DEMO_TENANT_ID,
    email: "member@demo.test",
    password: "demo-member-password",
    role: "member",
    name: "Max Member",
  },
  {
    tenantId: OTHER_TENANT_ID,
    email: "admin@other.test",
    password: "other-admin-password",
    role: "admin",
    name: "Olive Other",
  },
] as const;

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
    `Demo sign-in at ${appUrl}/sign-in:`,
    ...SEED_USERS.map(
      (u) =>
        `  ${u.email.padEnd(18)} ${u.password.padEnd(22)} (${u.role}, ${u.tenantId === DEMO_TENANT_ID ? "Demo Workspace" : "Other Workspace"})`,
    ),
  ].join("\n");
}
