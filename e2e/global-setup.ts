import { mkdirSync } from "node:fs";

import { chromium, type FullConfig } from "@playwright/test";

import { APP_URL, AUTH_DIR, storageState, USERS, type UserKey } from "./support/env.ts";

// Signs each seeded user in once through the real sign-in page and keeps the session,
// so specs start signed in without repeating the form.
export default async function globalSetup(config: FullConfig) {
  mkdirSync(AUTH_DIR, { recursive: true });
  const browser = await chromium.launch(config.projects[0]?.use.launchOptions);
  for (const key of Object.keys(USERS) as UserKey[]) {
    const context = await browser.newContext({ baseURL: APP_URL });
    const page = await context.newPage();
    await page.goto("/sign-in");
    await page.getByLabel("Email").fill(USERS[key].email);
    await page.getByLabel("Password").fill(USERS[key].password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL("**/settings/integrations");
    await context.storageState({ path: storageState(key) });
    await context.close();
  }
  await browser.close();
}
