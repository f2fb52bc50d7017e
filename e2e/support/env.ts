import path from "node:path";

import { SEED_USERS } from "../../scripts/support/demo-identities.ts";

export const APP_URL = `http://localhost:${process.env.E2E_APP_PORT ?? "3100"}`;
export const MOCK_URL = `http://localhost:${process.env.E2E_MOCK_PORT ?? "4110"}`;
export const STATE_DIR = path.join(import.meta.dirname, "..", ".state");
export const AUTH_DIR = path.join(import.meta.dirname, "..", ".auth");
export const SCREENSHOT_DIR = path.join(import.meta.dirname, "..", "screenshots");

export { DEMO_TENANT_ID, OTHER_TENANT_ID } from "../../scripts/support/demo-identities.ts";

const [admin, member, otherAdmin] = SEED_USERS;
export const USERS = { admin, member, otherAdmin } as const;
export type UserKey = keyof typeof USERS;

export const storageState = (user: UserKey) => path.join(AUTH_DIR, `${user}.json`);
