import "server-only";

import { RateLimiterPostgres, RateLimiterRes } from "rate-limiter-flexible";

import { sql } from "./db.ts";
import { DEFAULTS } from "./env.ts";

// Counters shared by every instance, in PostgreSQL (rate-limiter-flexible's store, our table
// rate_limits). Expired rows are deleted by the keeper's purge.

type Limit = { keyPrefix: string; points: number; duration: number; blockDuration?: number };

const limiters = new Map<string, RateLimiterPostgres>();

function limiter(limit: Limit): RateLimiterPostgres {
  // Limits of one prefix share their counters; a limit set per deployment may differ per caller.
  const id = `${limit.keyPrefix}/${limit.points}/${limit.duration}`;
  let found = limiters.get(id);
  if (!found) {
    found = new RateLimiterPostgres({
      storeClient: sql(),
      storeType: "pool",
      tableName: "rate_limits",
      tableCreated: true,
      clearExpiredByTimeout: false,
      ...limit,
    });
    limiters.set(id, found);
  }
  return found;
}

export const LIMITS = {
  /** Phone lookups per workspace: each costs Pipedrive budget the whole company shares. */
  lookup: { keyPrefix: "lookup", points: 30, duration: 60 },
  /** Phone lookups per user, so one member cannot spend the whole workspace's share. */
  lookupByUser: { keyPrefix: "lookup-user", points: 10, duration: 60 },
  /** Calls from one service (its key's name) to the token and lookup endpoints; points: SERVICE_CALLS_PER_MINUTE. */
  serviceCalls: { keyPrefix: "service", points: DEFAULTS.SERVICE_CALLS_PER_MINUTE, duration: 60 },
  /** An admin's Check now: one look at Pipedrive a minute per workspace. */
  checkNow: { keyPrefix: "check-now", points: 1, duration: 60 },
  /** A member asking the workspace's admins to connect or reconnect: once a day each. */
  askAdmins: { keyPrefix: "ask-admins", points: 1, duration: 24 * 60 * 60 },
  /** Marketplace callbacks (no state, no session needed) held from one client address. */
  installHoldByAddress: { keyPrefix: "install-hold", points: 20, duration: 10 * 60 },
  /** Wrong passwords from one client address, whichever accounts. */
  signInByAddress: { keyPrefix: "signin-ip", points: 30, duration: 15 * 60, blockDuration: 15 * 60 },
  /** Wrong passwords for one account from one address: a short lockout, reset by a success. */
  signInByAccountAndAddress: { keyPrefix: "signin-acct-ip", points: 5, duration: 15 * 60, blockDuration: 5 * 60 },
  /**
   * Wrong passwords for one account from clients that never signed in to it: a pause that
   * doubles at each lockout of the day (accountPauseSeconds in lib/auth/throttle.ts). Clients
   * that have signed in to it (a device cookie, a known address) are not held by it.
   */
  signInByAccount: { keyPrefix: "signin-acct", points: 20, duration: 15 * 60, blockDuration: 60 },
  /** How many times an account was paused today: each pause is longer than the last. */
  signInAccountLockouts: { keyPrefix: "signin-acct-locks", points: 1_000_000, duration: 24 * 60 * 60 },
  /** Wrong passwords for one account from clients that never signed in to it, in a day: then a day's pause. */
  signInByAccountDaily: {
    keyPrefix: "signin-acct-day",
    points: 100,
    duration: 24 * 60 * 60,
    blockDuration: 24 * 60 * 60,
  },
  /** Wrong passwords from a client that signed in to the account before: its own limit. */
  signInByKnownClient: { keyPrefix: "signin-known", points: 10, duration: 15 * 60, blockDuration: 5 * 60 },
} satisfies Record<string, Limit>;

/** Page lookups per workspace in a UTC day (keyed by workspace and day; kept two days). */
export function dailyLookupLimit(points: number): Limit {
  return { keyPrefix: "lookup-day", points, duration: 2 * 24 * 60 * 60 };
}

/** Points `key` has spent under `limit` in its current window. */
export async function spentPoints(limit: Limit, key: string): Promise<number> {
  return (await limiter(limit).get(key))?.consumedPoints ?? 0;
}

/** Seconds until `key` may act again under `limit`, without spending anything; 0 when free. */
export async function waitSeconds(limit: Limit, key: string): Promise<number> {
  const state = await limiter(limit).get(key);
  if (!state || state.consumedPoints <= limit.points) return 0;
  return Math.max(1, Math.ceil(state.msBeforeNext / 1000));
}

/** Spends one point; the seconds to wait if that went over the limit, else 0. */
export async function spend(limit: Limit, key: string): Promise<number> {
  const taken = await take(limit, key);
  return "wait" in taken ? taken.wait : 0;
}

/**
 * Takes one point before the work it pays for, atomically in PostgreSQL: requests sent at once
 * cannot all pass a check that is counted afterwards. The points now spent, or the wait.
 */
export async function take(limit: Limit, key: string): Promise<{ spent: number } | { wait: number }> {
  try {
    return { spent: (await limiter(limit).consume(key)).consumedPoints };
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return { wait: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) };
    throw rejection;
  }
}

/** Gives a taken point back: what it paid for turned out fine. */
export async function giveBack(limit: Limit, key: string): Promise<void> {
  await limiter(limit).reward(key, 1);
}

/** The last allowed attempt failed: block for the limit's lockout (or `seconds`) now; the seconds it lasts. */
export async function lockOut(
  limit: Limit & { blockDuration: number },
  key: string,
  seconds = limit.blockDuration,
): Promise<number> {
  await limiter(limit).block(key, seconds);
  return seconds;
}

export async function forget(limit: Limit, key: string): Promise<void> {
  await limiter(limit).delete(key);
}

/** For the CRM's housekeeping (lib/jobs): counters whose window ended more than an hour ago. */
export async function purgeExpiredCounters(now: Date): Promise<number> {
  const { rowCount } = await sql().query(`DELETE FROM rate_limits WHERE expire IS NOT NULL AND expire < $1`, [
    now.getTime() - 3_600_000,
  ]);
  return rowCount ?? 0;
}
