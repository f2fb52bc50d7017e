import { DEMO_TENANT_ID, OTHER_TENANT_ID, SEED_USERS, type SeedUser } from "../../scripts/support/demo-identities.ts";

// The end-to-end suite runs several Playwright workers against one app and one mock. Each
// worker has a slot (its parallel index): a demo and an other workspace with their three users,
// and a world of the mock's of the same number. Slot 0 is the seeded demo itself, so a spec run
// alone works on what `npm run dev` shows; the others are copies with their own ids and emails.

export type SlotTenant = { id: string; name: string };

export function e2eSlot(slot: number): { tenants: [SlotTenant, SlotTenant]; users: SeedUser[] } {
  const suffix = String(slot).padStart(12, "0");
  const demo = slot === 0 ? DEMO_TENANT_ID : `11111111-1111-4111-8111-${suffix}`;
  const other = slot === 0 ? OTHER_TENANT_ID : `22222222-2222-4222-8222-${suffix}`;
  return {
    tenants: [
      { id: demo, name: "Demo Workspace" },
      { id: other, name: "Other Workspace" },
    ],
    users: SEED_USERS.map((user) => ({
      ...user,
      tenantId: user.tenantId === DEMO_TENANT_ID ? demo : other,
      email: slot === 0 ? user.email : user.email.replace("@", `.slot${slot}@`),
    })),
  };
}
