import path from "node:path";

import { namedIdentities } from "../../testing/mock-pipedrive/model.ts";
import { e2eSlot } from "../../testing/support/e2e-slots.ts";

export const APP_URL = `http://localhost:${process.env.E2E_APP_PORT ?? "3100"}`;
export const MOCK_URL = `http://localhost:${process.env.E2E_MOCK_PORT ?? "4110"}`;
export const STATE_DIR = path.join(import.meta.dirname, "..", ".state");
export const AUTH_DIR = path.join(import.meta.dirname, "..", ".auth");
export const SCREENSHOT_DIR = path.join(import.meta.dirname, "..", "screenshots");

/**
 * This worker's slot (testing/support/e2e-slots.ts): its workspaces, its users and its world in
 * the mock. Playwright numbers its workers' parallel index from 0; outside a worker it is 0.
 */
export const SLOT = Number(process.env.TEST_PARALLEL_INDEX ?? 0);
const slot = e2eSlot(SLOT);

export const [DEMO_TENANT_ID, OTHER_TENANT_ID] = slot.tenants.map((t) => t.id) as [string, string];

const [admin, member, otherAdmin] = slot.users as [
  (typeof slot.users)[number],
  (typeof slot.users)[number],
  (typeof slot.users)[number],
];
export const USERS = { admin, member, otherAdmin } as const;
export type UserKey = keyof typeof USERS;

/** The mock's named Pipedrive users and companies, with this slot's ids. */
const named = namedIdentities(SLOT);
export const PIPEDRIVE = {
  pat: named.users[0]!.id,
  sam: named.users[1]!.id,
  acme: named.companies[0]!.id,
  beta: named.companies[1]!.id,
};

export const storageState = (user: UserKey, slotNumber = SLOT) => path.join(AUTH_DIR, `${slotNumber}-${user}.json`);
/** A browser that has signed in nowhere but knows its mock world (every context starts from it). */
export const signedOutState = (slotNumber = SLOT) => path.join(AUTH_DIR, `${slotNumber}-signed-out.json`);
