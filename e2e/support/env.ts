import path from "node:path";

export const APP_URL = `http://localhost:${process.env.E2E_APP_PORT ?? "3100"}`;
export const MOCK_URL = `http://localhost:${process.env.E2E_MOCK_PORT ?? "4110"}`;
export const STATE_DIR = path.join(import.meta.dirname, "..", ".state");
export const AUTH_DIR = path.join(import.meta.dirname, "..", ".auth");
export const SCREENSHOT_DIR = path.join(import.meta.dirname, "..", "screenshots");

export const DEMO_TENANT_ID = "11111111-1111-4111-8111-111111111111";
export const OTHER_TENANT_ID = "22222222-2222-4222-8222-222222222222";

export const USERS = {
  admin: { email: "admin@demo.test", password: "demo-admin-password", tenantId: DEMO_TENANT_ID },
  member: { email: "member@demo.test", password: "demo-member-password", tenantId: DEMO_TENANT_ID },
  otherAdmin: { email: "admin@other.test", password: "other-admin-password", tenantId: OTHER_TENANT_ID },
} as const;
export type UserKey = keyof typeof USERS;

export const storageState = (user: UserKey) => path.join(AUTH_DIR, `${user}.json`);
