import { randomInt } from "node:crypto";

import { testDb } from "./support/db.ts";
import { USERS } from "./support/env.ts";
import { expect, test } from "./support/fixtures.ts";
import { postSignIn } from "./support/sign-in-form.ts";

// Sign-in limits must not become a way to lock someone out: over real HTTP to the production
// build, an attacker's address is held back, and the account's owner is not.

/** One sign-in form post from `address`; where it lands. */
async function signIn(email: string, password: string, address: string): Promise<string> {
  const answer = await postSignIn(email, password, address, { callbackUrl: "/settings/integrations" });
  expect(answer.status).toBe(303);
  return answer.headers.get("location") ?? "";
}

const someAddress = () => `198.18.${randomInt(1, 254)}.${randomInt(1, 254)}`;

test("105 wrong passwords from one address, 15 at a time, do not keep the owner out on a new device", async () => {
  const victim = USERS.otherAdmin;
  const attacker = someAddress();
  for (let sent = 0; sent < 105; sent += 15) {
    const landed = await Promise.all(
      Array.from({ length: 15 }, (_, i) => signIn(victim.email, `wrong-${sent + i}`, attacker)),
    );
    for (const location of landed) expect(location).toMatch(/\/sign-in\?.*error=(invalid|paused)/);
  }
  // The attacker's address is held back...
  expect(await signIn(victim.email, victim.password, attacker)).toMatch(/error=paused/);
  // ...and the owner, from a new device elsewhere, is not.
  expect(await signIn(victim.email, victim.password, someAddress())).toMatch(/\/settings\/integrations$/);
});

test("a blocked address writes no more counters, whatever emails it names, and no counter holds an email", async () => {
  const attacker = someAddress();
  for (let i = 0; i < 31; i++) await signIn(`spray-${i}@lockout.test`, "x", attacker);
  const count = async () => (await testDb.query<{ n: number }>("SELECT count(*)::int AS n FROM rate_limits"))[0]!.n;
  const before = await count();
  for (let i = 0; i < 30; i++)
    expect(await signIn(`${"x".repeat(300)}-${i}@lockout.test`, "x", attacker)).toMatch(/error=paused/);
  expect(await count()).toBe(before);
  const keys = await testDb.query<{ key: string }>("SELECT key FROM rate_limits WHERE key LIKE 'signin%'");
  expect(keys.filter(({ key }) => key.includes("@"))).toEqual([]);
});
