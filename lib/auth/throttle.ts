import "server-only";

import { CredentialsSignin } from "next-auth";

import { keyedHash } from "../crypto.ts";
import { env } from "../env.ts";
import { CLIENT_ADDRESS_HEADER, clientAddress } from "../http/client-address.ts";
import { forget, giveBack, LIMITS, lockOut, take, waitSeconds } from "../rate-limit-store.ts";
import type { TenantUser } from "../users/user-store.ts";
import { normalizeEmail, verifyCredentials } from "./credentials.ts";
import { deviceFor, issueDevice } from "./device-cookie.ts";
import { isKnownAddress, rememberAddress } from "./known-client-store.ts";

// Sign-in throttling, shared by every instance: per client address, per account from that
// address (a short lockout, cleared by a success), per account from anywhere (a pause that grows
// with each lockout) and per account in a day; a client that signed in to the account before has
// a limit of its own. Both sign-in paths go
// through here.

/** The address a sign-in comes from, as scripts/server.ts worked it out (see lib/http/client-address.ts). */
export function requestAddress(headers: Headers): string {
  const e = env();
  if (e.CLIENT_ADDRESS_FROM_SERVER) return headers.get(CLIENT_ADDRESS_HEADER) ?? "unknown";
  const forwardedFor = headers.get("x-forwarded-for") ?? undefined;
  return clientAddress({ forwardedFor, socketAddress: undefined, trustedProxies: e.TRUSTED_PROXIES });
}

/**
 * The counters' key for an account: a keyed hash, so the table holds no email and a key's
 * length does not grow with what an attacker types.
 */
export const accountKey = (email: string) => keyedHash(env().AUTH_SECRET, "sign-in account", email);

function keys(email: string, address: string) {
  const account = accountKey(email);
  return { address, account, accountAtAddress: `${account}|${address}` };
}

/** Seconds this attempt must wait before trying again; 0 when it may go ahead. */
export async function signInWait(rawEmail: unknown, address: string): Promise<number> {
  const k = keys(normalizeEmail(rawEmail), address);
  const waits = await Promise.all([
    waitSeconds(LIMITS.signInByAddress, k.address),
    waitSeconds(LIMITS.signInByAccountAndAddress, k.accountAtAddress),
    waitSeconds(LIMITS.signInByAccount, k.account),
    waitSeconds(LIMITS.signInByAccountDaily, k.account),
  ]);
  return Math.max(...waits);
}

/** Who is signing in: the address, and the device cookie the browser presented, if any. */
export type SignInClient = { address: string; device?: string | null };

/** On success, `device` is the cookie value the browser should keep (the one it had, or a new one). */
/** A wrong password says how many more this client may try before a pause. */
export type SignInAttempt =
  { user: TenantUser; device: string } | { wait: number } | { invalid: true; triesLeft: number };

type SignInLimit = (typeof LIMITS)[
  "signInByAddress" | "signInByAccountAndAddress" | "signInByAccount" | "signInByAccountDaily" | "signInByKnownClient"];
type Counted = { limit: SignInLimit; key: string };

/**
 * The limits an attempt is counted against, narrowest first. A browser that signed in to the
 * account before (its device cookie) is judged on its own limit only: failures from anywhere
 * else cannot keep it out. An address it signed in from has its own limit too, but stays under
 * the account's daily cap, as anyone else behind that address (a NAT) could be guessing. Every
 * other client is counted per address, per account at that address, and per account.
 */
async function limitsFor(email: string, client: SignInClient, device: string | null): Promise<Counted[]> {
  const k = keys(email, client.address);
  if (device) return [{ limit: LIMITS.signInByKnownClient, key: `${k.account}|device:${device}` }];
  if (await isKnownAddress(email, client.address))
    return [
      { limit: LIMITS.signInByKnownClient, key: k.accountAtAddress },
      { limit: LIMITS.signInByAccountDaily, key: k.account },
    ];
  return [
    { limit: LIMITS.signInByAddress, key: k.address },
    { limit: LIMITS.signInByAccountAndAddress, key: k.accountAtAddress },
    { limit: LIMITS.signInByAccount, key: k.account },
    { limit: LIMITS.signInByAccountDaily, key: k.account },
  ];
}

/**
 * Takes a point from each limit in turn, and stops at the first that refuses, giving back what
 * this attempt took before it: an attempt that is not checked spends nothing of the wider
 * limits, so guesses refused at one address cannot use up the account's. The refusing limit
 * keeps its point, which is what holds its block.
 */
async function takeAll(limits: Counted[]): Promise<{ spent: number[] } | { wait: number }> {
  const spent: number[] = [];
  for (const [i, { limit, key }] of limits.entries()) {
    const taken = await take(limit, key);
    if ("wait" in taken) {
      await Promise.all(limits.slice(0, i).map((earlier) => giveBack(earlier.limit, earlier.key)));
      return taken;
    }
    spent.push(taken.spent);
  }
  return { spent };
}

/**
 * The one place sign-in is throttled, on both sign-in paths (it runs inside Auth.js's authorize).
 * Each attempt takes its points before the password is checked, so guesses sent at once are
 * counted as they arrive and at most the allowed number is ever evaluated. A success gives its
 * points back; the failure that uses up a limit locks it at once. A blocked address is answered
 * from a read alone: it writes nothing more, whatever accounts it names.
 */
export async function checkCredentialsWithinLimits(raw: unknown, client: SignInClient): Promise<SignInAttempt> {
  const secret = env().AUTH_SECRET;
  const email = normalizeEmail(raw && typeof raw === "object" && "email" in raw ? raw.email : "");
  const device = deviceFor(secret, email, client.device);
  if (!device) {
    const addressWait = await waitSeconds(LIMITS.signInByAddress, client.address);
    if (addressWait > 0) return { wait: addressWait };
  }
  const limits = await limitsFor(email, client, device);
  const taken = await takeAll(limits);
  if ("wait" in taken) return taken;
  const user = await verifyCredentials(raw);
  if (user) {
    await Promise.all([
      ...limits.map(({ limit, key }) =>
        limit === LIMITS.signInByKnownClient || limit === LIMITS.signInByAccountAndAddress
          ? forget(limit, key)
          : giveBack(limit, key),
      ),
      rememberAddress(email, client.address, new Date()),
    ]);
    return { user, device: device ? client.device! : issueDevice(secret, email) };
  }
  const usedUp = limits.filter(({ limit }, i) => taken.spent[i]! >= limit.points);
  if (usedUp.length === 0) {
    const left = limits.map(({ limit }, i) => limit.points - taken.spent[i]!);
    return { invalid: true, triesLeft: Math.min(...left) };
  }
  const waits = await Promise.all(
    usedUp.map(async ({ limit, key }) => {
      if (limit !== LIMITS.signInByAccount) return lockOut(limit, key);
      const lockouts = await take(LIMITS.signInAccountLockouts, key);
      return lockOut(limit, key, accountPauseSeconds("spent" in lockouts ? lockouts.spent : Number.MAX_SAFE_INTEGER));
    }),
  );
  return { wait: Math.max(...waits) };
}

/**
 * The pause after an account's nth lockout of the day from clients that never signed in to it:
 * a minute, doubling each time, at most an hour. Rotating addresses then get a few hundred
 * guesses a day at most, and the daily cap stops them at signInByAccountDaily.points.
 */
export function accountPauseSeconds(nth: number): number {
  return Math.min(60 * 2 ** Math.min(Math.max(nth, 1) - 1, 6), 60 * 60);
}

/** Auth.js carries why a credentials sign-in failed in the error's code: "paused_<seconds>", "invalid_<tries left>" or "credentials". */
export class SignInPaused extends CredentialsSignin {
  constructor(readonly waitSeconds: number) {
    super();
    this.code = `paused_${waitSeconds}`;
  }
}

/** A wrong password when only a few tries are left before a pause: the page warns. */
export class SignInFailed extends CredentialsSignin {
  constructor(readonly triesLeft: number) {
    super();
    this.code = `invalid_${triesLeft}`;
  }
}

/** Tries left that a failed sign-in's code names; null when it names none. */
export function triesLeft(code: string | null | undefined): number | null {
  const match = code?.match(/^invalid_(\d{1,3})$/);
  return match ? Number(match[1]) : null;
}

/** From this many tries left, the page says how many remain. */
export const WARN_AT_TRIES_LEFT = 2;

/** The pause a failed sign-in's code names, in seconds; null for a plain wrong password. */
export function pausedSeconds(code: string | null | undefined): number | null {
  const match = code?.match(/^paused_(\d{1,6})$/);
  return match ? Number(match[1]) : null;
}
