import { randomUUID } from "node:crypto";

import { beforeAll, describe, expect, it, vi } from "vitest";

import { db, sql } from "../db.ts";
import { forget, LIMITS } from "../rate-limit-store.ts";
import { hashPassword } from "./password.ts";
import {
  accountKey,
  accountPauseSeconds,
  checkCredentialsWithinLimits,
  requestAddress,
  signInWait,
} from "./throttle.ts";

// This suite counts guesses, several hundred of them, not hashing: at bcrypt's real cost they
// took 80 s of CPU, the longest file of the run. password.test.ts holds the real cost.
vi.mock("bcryptjs", async (importOriginal) => {
  const { default: bcrypt } = await importOriginal<{ default: typeof import("bcryptjs") }>();
  return { default: { ...bcrypt, hash: (password: string) => bcrypt.hash(password, 4) } };
});

const PASSWORD = "the right password";
let tenantId: string;
beforeAll(async () => {
  tenantId = (await db().tenant.create({ data: { name: "Throttle tenant" } })).id;
});

async function account() {
  const email = `t-${randomUUID()}@throttle.test`;
  await db().user.create({
    data: { tenantId, email, passwordHash: await hashPassword(PASSWORD), role: "admin", name: "T" },
  });
  return email;
}
const address = () => `203.0.113.${Math.floor(Math.random() * 250)}-${randomUUID().slice(0, 4)}`;

describe("sign-in throttling", () => {
  it("stops a client after a few wrong passwords for one account, the right one included, for minutes at most", async () => {
    const email = await account();
    const from = address();
    for (let i = 0; i < LIMITS.signInByAccountAndAddress.points - 1; i++)
      expect(await checkCredentialsWithinLimits({ email, password: "wrong" }, { address: from })).toMatchObject({
        invalid: true,
      });
    // The failure that uses up the limit says so at once.
    expect(await checkCredentialsWithinLimits({ email, password: "wrong" }, { address: from })).toMatchObject({
      wait: expect.any(Number),
    });
    const blocked = await checkCredentialsWithinLimits({ email, password: PASSWORD }, { address: from });
    expect(blocked).toMatchObject({ wait: expect.any(Number) });
    expect("wait" in blocked && blocked.wait).toBeLessThanOrEqual(LIMITS.signInByAccountAndAddress.blockDuration);
    // The real user, elsewhere, still gets in.
    expect(await checkCredentialsWithinLimits({ email, password: PASSWORD }, { address: address() })).toHaveProperty(
      "user",
    );
  });

  it("counts unknown accounts too, so an attacker learns nothing from the limit", async () => {
    const from = address();
    const ghost = `ghost-${randomUUID()}@throttle.test`;
    for (let i = 0; i < LIMITS.signInByAccountAndAddress.points; i++)
      await checkCredentialsWithinLimits({ email: ghost, password: "x" }, { address: from });
    expect(await signInWait(ghost, from)).toBeGreaterThan(0);
  });

  it("clears the per-address count for an account on a success", async () => {
    const email = await account();
    const from = address();
    for (let i = 0; i < LIMITS.signInByAccountAndAddress.points - 1; i++)
      await checkCredentialsWithinLimits({ email, password: "wrong" }, { address: from });
    expect(await checkCredentialsWithinLimits({ email, password: PASSWORD }, { address: from })).toHaveProperty("user");
    for (let i = 0; i < LIMITS.signInByAccountAndAddress.points - 1; i++)
      expect(await checkCredentialsWithinLimits({ email, password: "wrong" }, { address: from })).toMatchObject({
        invalid: true,
      });
  });

  it("limits one address across many accounts", async () => {
    const from = address();
    for (let i = 0; i < LIMITS.signInByAddress.points; i++)
      await checkCredentialsWithinLimits(
        { email: `spray-${i}-${randomUUID()}@throttle.test`, password: "x" },
        { address: from },
      );
    expect(await signInWait(await account(), from)).toBeGreaterThan(0);
  });

  it("limits one account across many addresses, but only for a minute", async () => {
    const email = await account();
    for (let i = 0; i < LIMITS.signInByAccount.points; i++)
      await checkCredentialsWithinLimits({ email, password: "wrong" }, { address: address() });
    const wait = await signInWait(email, address());
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60);
  });

  it("pauses an account longer at each lockout from rotating addresses, and stops a day's guesses at the daily cap", async () => {
    const email = await account();
    // The real user signed in once, on their own browser, before the attack.
    const home = await checkCredentialsWithinLimits({ email, password: PASSWORD }, { address: address() });
    const device = "device" in home ? home.device : null;
    const pauses: number[] = [];
    let evaluated = 0;
    // Each round guesses from fresh addresses until the account is paused; then the pause runs
    // out (its counter is cleared, as time would clear it) and the next round starts.
    for (let round = 0; round < 8; round++) {
      let invalid = 0;
      for (;;) {
        const attempt = await checkCredentialsWithinLimits({ email, password: "wrong" }, { address: address() });
        if ("wait" in attempt) {
          pauses.push(attempt.wait);
          // The attempt that used a limit up was checked too; one refused outright was not.
          if (invalid > 0) evaluated += invalid + 1;
          break;
        }
        invalid++;
      }
      await forget(LIMITS.signInByAccount, accountKey(email));
    }
    expect(pauses.slice(0, 4)).toEqual([60, 120, 240, 480]);
    expect(evaluated).toBe(LIMITS.signInByAccountDaily.points);
    // The rest of the day, every further guess waits; the right password from a new client too.
    expect(Math.min(...pauses.slice(4))).toBeGreaterThan(20 * 3600);
    expect(await checkCredentialsWithinLimits({ email, password: PASSWORD }, { address: address() })).toHaveProperty(
      "wait",
    );
    // The real user's browser is judged on its own limit, and still gets in.
    expect(
      await checkCredentialsWithinLimits({ email, password: PASSWORD }, { address: address(), device }),
    ).toHaveProperty("user");
  });

  it("does not let one address's refused guesses pause the account for a new device: only checked guesses count", async () => {
    const email = await account();
    const from = address();
    // 105 wrong passwords, 15 at a time, from one address: most are refused before any check.
    let checked = 0;
    for (let sent = 0; sent < 105; sent += 15) {
      const batch = await Promise.all(
        Array.from({ length: 15 }, () => checkCredentialsWithinLimits({ email, password: "wrong" }, { address: from })),
      );
      checked += batch.filter((r) => "invalid" in r).length;
    }
    expect(checked).toBeLessThanOrEqual(LIMITS.signInByAccountAndAddress.points);
    // The real user, on a new device elsewhere, gets in.
    expect(await checkCredentialsWithinLimits({ email, password: PASSWORD }, { address: address() })).toHaveProperty(
      "user",
    );
  });

  it("writes nothing more for an address once it is blocked, and keeps no email in its counters", async () => {
    const from = address();
    for (let i = 0; i < LIMITS.signInByAddress.points + 1; i++)
      await checkCredentialsWithinLimits(
        { email: `spray-${i}-${randomUUID()}@throttle.test`, password: "x" },
        { address: from },
      );
    const rows = async () =>
      (await sql().query<{ n: number }>("SELECT count(*)::int AS n FROM rate_limits")).rows[0]!.n;
    const before = await rows();
    for (let i = 0; i < 50; i++)
      expect(
        await checkCredentialsWithinLimits(
          { email: `${"long".repeat(70)}-${randomUUID()}@throttle.test`, password: "x" },
          { address: from },
        ),
      ).toHaveProperty("wait");
    expect(await rows()).toBe(before);
    const keys = (await sql().query<{ key: string }>("SELECT key FROM rate_limits")).rows.map((r) => r.key);
    expect(keys.filter((key) => key.includes("@"))).toEqual([]);
  });

  it("holds a client known only by its address to the account's daily cap", async () => {
    const email = await account();
    const home = address();
    expect(await checkCredentialsWithinLimits({ email, password: PASSWORD }, { address: home })).toHaveProperty("user");
    // A day's worth of checked guesses from rotating addresses, each round's pause let run out.
    let checked = 0;
    for (let sent = 0; checked < LIMITS.signInByAccountDaily.points && sent < 1000; sent++) {
      const attempt = await checkCredentialsWithinLimits({ email, password: "wrong" }, { address: address() });
      if ("invalid" in attempt) checked++;
      else await forget(LIMITS.signInByAccount, accountKey(email));
    }
    // Someone else behind the same address (a NAT) gets no further guesses that day.
    expect(await checkCredentialsWithinLimits({ email, password: "wrong" }, { address: home })).toHaveProperty("wait");
  });

  it("caps an account's growing pause at an hour", () => {
    expect([1, 2, 3, 6, 7, 8, 20].map(accountPauseSeconds)).toEqual([60, 120, 240, 1920, 3600, 3600, 3600]);
  });

  it("evaluates at most the allowed number of guesses sent at once, so the right one among them does not get in", async () => {
    for (const right of [24, 36, 49]) {
      const email = await account();
      const from = address();
      const guesses = Array.from({ length: 60 }, (_, i) => ({
        email,
        password: i === right ? PASSWORD : `wrong-${i}`,
      }));
      const results = await Promise.all(guesses.map((guess) => checkCredentialsWithinLimits(guess, { address: from })));
      expect(
        results.filter((r) => "user" in r),
        `right password at #${right + 1}`,
      ).toHaveLength(0);
      expect(results.filter((r) => "invalid" in r).length).toBeLessThanOrEqual(LIMITS.signInByAccountAndAddress.points);
    }
  });

  it("treats an email with a NUL byte or other control characters as a wrong sign-in, not a crash", async () => {
    for (const email of ["admin\u0000@demo.test", "a\u0007b@demo.test", "\u0000"]) {
      expect(await checkCredentialsWithinLimits({ email, password: "x" }, { address: address() })).toMatchObject({
        invalid: true,
      });
    }
  });

  it("says how many tries are left before a pause", async () => {
    const email = await account();
    const from = { address: address() };
    const left = [];
    for (let i = 0; i < LIMITS.signInByAccountAndAddress.points - 1; i++) {
      const attempt = await checkCredentialsWithinLimits({ email, password: "wrong" }, from);
      left.push("triesLeft" in attempt ? attempt.triesLeft : null);
    }
    expect(left).toEqual([4, 3, 2, 1]);
  });

  it("does not let failures from unknown addresses keep out a browser or address that signed in before", async () => {
    const email = await account();
    const home = address();
    const first = await checkCredentialsWithinLimits({ email, password: PASSWORD }, { address: home });
    if (!("user" in first)) throw new Error("the first sign-in failed");
    // An attacker on rotating addresses uses up the account-wide limit, and keeps refilling it.
    for (let i = 0; i < LIMITS.signInByAccount.points + 5; i++)
      await checkCredentialsWithinLimits({ email, password: "wrong" }, { address: address() });
    // A client that never signed in to the account is held back...
    expect(await checkCredentialsWithinLimits({ email, password: PASSWORD }, { address: address() })).toHaveProperty(
      "wait",
    );
    // ...the browser that did is not, from a new address...
    expect(
      await checkCredentialsWithinLimits({ email, password: PASSWORD }, { address: address(), device: first.device }),
    ).toEqual({
      user: expect.objectContaining({ email }),
      device: first.device,
    });
    // ...and neither is the address it signed in from, without the cookie.
    expect(await checkCredentialsWithinLimits({ email, password: PASSWORD }, { address: home })).toHaveProperty("user");
  });

  it("judges a known client on a limit of its own", async () => {
    const email = await account();
    const first = await checkCredentialsWithinLimits({ email, password: PASSWORD }, { address: address() });
    if (!("user" in first)) throw new Error("the first sign-in failed");
    const browser = { address: address(), device: first.device };
    for (let i = 0; i < LIMITS.signInByKnownClient.points - 1; i++)
      expect(await checkCredentialsWithinLimits({ email, password: "wrong" }, browser)).toMatchObject({
        invalid: true,
      });
    expect(await checkCredentialsWithinLimits({ email, password: "wrong" }, browser)).toHaveProperty("wait");
    expect(await checkCredentialsWithinLimits({ email, password: PASSWORD }, browser)).toHaveProperty("wait");
  });

  it("counts a device cookie issued for another account, or a forged one, for nothing", async () => {
    const email = await account();
    const other = await account();
    const theirs = await checkCredentialsWithinLimits({ email: other, password: PASSWORD }, { address: address() });
    if (!("user" in theirs)) throw new Error("the first sign-in failed");
    for (let i = 0; i < LIMITS.signInByAccount.points + 1; i++)
      await checkCredentialsWithinLimits({ email, password: "wrong" }, { address: address() });
    for (const device of [theirs.device, `${"A".repeat(22)}.${"B".repeat(43)}`, "junk"]) {
      expect(
        await checkCredentialsWithinLimits({ email, password: PASSWORD }, { address: address(), device }),
      ).toHaveProperty("wait");
    }
  });

  it("outside scripts/server.ts (next dev), reads the address Next.js put last in X-Forwarded-For", () => {
    expect(requestAddress(new Headers({ "x-forwarded-for": "1.2.3.4, 198.51.100.7" }))).toBe("198.51.100.7");
    expect(requestAddress(new Headers({ "x-forwarded-for": "2001:db8:1:2::99" }))).toBe("2001:db8:1:2::/64");
    expect(requestAddress(new Headers())).toBe("unknown");
  });
});
