import { mkdirSync, writeFileSync } from "node:fs";

import { chromium, type FullConfig } from "@playwright/test";

import { WORLD_COOKIE } from "../testing/mock-pipedrive/model.ts";
import { e2eSlot } from "../testing/support/e2e-slots.ts";
import { APP_URL, AUTH_DIR, signedOutState, storageState, type UserKey } from "./support/env.ts";

// Signs each worker slot's users in once through the real sign-in page and keeps the sessions,
// so specs start signed in without repeating the form. Every browser state carries the slot's
// world cookie for the mock (testing/mock-pipedrive/model.ts).
export default async function globalSetup(config: FullConfig) {
  mkdirSync(AUTH_DIR, { recursive: true });
  const browser = await chromium.launch(config.projects[0]?.use.launchOptions);
  for (let slot = 0; slot < config.workers; slot++) {
    const world = {
      name: WORLD_COOKIE,
      value: String(slot),
      domain: "localhost",
      path: "/",
      expires: -1,
      httpOnly: false,
      secure: false,
      sameSite: "Lax" as const,
    };
    writeFileSync(signedOutState(slot), JSON.stringify({ cookies: [world], origins: [] }));
    const [admin, member, otherAdmin] = e2eSlot(slot).users;
    for (const [key, user] of Object.entries({ admin: admin!, member: member!, otherAdmin: otherAdmin! })) {
      const context = await browser.newContext({ baseURL: APP_URL, storageState: signedOutState(slot) });
      const page = await context.newPage();
      await page.goto("/sign-in");
      await page.getByLabel("Email").fill(user.email);
      await page.getByLabel("Password").fill(user.password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL("**/settings/integrations");
      await context.storageState({ path: storageState(key as UserKey, slot) });
      await context.close();
    }
  }
  await browser.close();
}
