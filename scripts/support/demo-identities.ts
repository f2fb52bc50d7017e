// The demo workspaces and their users, defined once: the seed writes them, the README lists
// them, and the end-to-end suite signs in as them. Fixed ids so tests, docs and the enrichment
// CLI can name the demo tenants. Pure data: safe to import anywhere.

export const DEMO_TENANT_ID = "11111111-1111-4111-8111-111111111111";
export const OTHER_TENANT_ID = "22222222-2222-4222-8222-222222222222";

export type SeedUser = { tenantId: string; email: string; password: string; role: "admin" | "member"; name: string };

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
