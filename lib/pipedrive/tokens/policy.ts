import { healsByProbe, type ConnectionStatus } from "../connection/lifecycle.ts";

// When a token is renewed: the one copy of the rule. The keeper, just-in-time refreshes, the
// scheduler's SQL and the settings page all take their dates from here.

export type RenewalPolicy = {
  /** The keeper renews a token with less than this left. */
  windowSeconds: number;
  /** The keeper renews a refresh token unused this long (Pipedrive drops it after REFRESH_TOKEN_IDLE_DAYS). */
  idleDays: number;
};

/** A connection that needs a reconnect, or that Pipedrive's API refuses, is looked at again this often, so it can heal. */
export const NEEDS_RECONNECT_RECHECK_MS = 60 * 60_000;

/** A visit that did not renew comes back no sooner than this, so a failing tenant is not retried every scan. */
export const MIN_REVISIT_MS = 60_000;

const DAY_MS = 86_400_000;

/** Pipedrive's `expires_in` is seconds; the stored expiry is absolute. */
export function expiresAt(now: Date, expiresInSeconds: number): Date {
  return new Date(now.getTime() + expiresInSeconds * 1000);
}

/** Less than `skewSeconds` left: renew before using it. */
export function isStale(tokenExpiresAt: Date, now: Date, skewSeconds: number): boolean {
  return tokenExpiresAt.getTime() - now.getTime() <= skewSeconds * 1000;
}

/** When the keeper should renew: before the token enters its window, or before the refresh token idles too long. */
export function nextRefreshAt(tokenExpiresAt: Date, refreshTokenUsedAt: Date, policy: RenewalPolicy): Date {
  return new Date(
    Math.min(
      tokenExpiresAt.getTime() - policy.windowSeconds * 1000,
      refreshTokenUsedAt.getTime() + policy.idleDays * DAY_MS,
    ),
  );
}

/** The keeper's test under the row lock: inside its window, or idle too long. */
export function keeperShouldRenew(
  row: { expiresAt: Date; refreshTokenUsedAt: Date | null },
  policy: RenewalPolicy,
  now: Date,
): boolean {
  const idle =
    row.refreshTokenUsedAt === null || row.refreshTokenUsedAt.getTime() < now.getTime() - policy.idleDays * DAY_MS;
  return idle || isStale(row.expiresAt, now, policy.windowSeconds);
}

/** The keeper's next visit after any visit, from the row as it is now (another writer may have renewed it). */
export function nextVisit(
  row: { status: ConnectionStatus; expiresAt: Date; refreshTokenUsedAt: Date },
  policy: RenewalPolicy,
  now: Date,
): Date {
  const recheck = row.status === "needs_reconnect" || healsByProbe(row.status);
  const wanted = recheck
    ? now.getTime() + NEEDS_RECONNECT_RECHECK_MS
    : nextRefreshAt(row.expiresAt, row.refreshTokenUsedAt, policy).getTime();
  return new Date(Math.max(now.getTime() + MIN_REVISIT_MS, wanted));
}
