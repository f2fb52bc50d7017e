import { isBrokenCircuitError } from "cockatiel";
import { AppError, describe, rateLimitedUntil } from "../errors.ts";
import { allowedApiHost, apiBaseUrl, toBareHost } from "./api-domain.ts";
import type { PipedriveContext } from "./context.ts";
import { backoffMs, isPipedriveError, PipedriveError } from "./http.ts";
import type { TokenSet } from "./oauth-client.ts";
import {
  expiresAt,
  isKnownRejected,
  nextRefreshAt,
  blockCompany,
  type NeedsReconnectReason,
  readRefreshToken,
  readToken,
  repairApiDomain,
  type TokenRow,
  withLockedToken,
} from "./token-store.ts";

// Just-in-time refresh that happens once, however many callers ask at the same moment:
// callers in one process share one promise; processes queue on the row lock and re-read
// after it, so only the first one finds the token still stale and refreshes it.
//
// The lead-enrichment service refreshes the same rows without our lock. When its refresh
// reaches Pipedrive first, ours gets invalid_grant although the grant is alive: its new
// token is about to land in the row. So invalid_grant proves the grant is gone only when,
// after a short wait, the refresh token Pipedrive refused is still the one in the row.

export type AccessToken = {
  accessToken: string;
  apiHost: string;
  apiBaseUrl: string;
  expiresAt: Date;
  blockedUntil?: Date | null;
  /** This call renewed the token at Pipedrive. */
  renewed?: boolean;
};

const inflight = new Map<string, Promise<AccessToken>>();

const GRANT_GONE: NeedsReconnectReason = {
  message: "Pipedrive no longer accepts this workspace's access. It may have been removed in Pipedrive, or left unused for 60 days.",
  detail: "refresh token rejected (invalid_grant) and not rotated by another writer",
};

const REFUSED_AFTER_REFRESH: NeedsReconnectReason = {
  message: "Pipedrive refused our access even after renewing it.",
  detail: "HTTP 401 on a freshly refreshed access token",
};

function isStale(row: Pick<TokenRow, "expiresAt">, ctx: PipedriveContext, skewSeconds = ctx.skewSeconds): boolean {
  return row.expiresAt.getTime() - ctx.now().getTime() <= skewSeconds * 1000;
}

/** The row's host, if it is one we may send a token to; never a token to anywhere else. */
function checkedHost(row: TokenRow, ctx: PipedriveContext): string {
  const host = allowedApiHost(row.storedApiDomain, ctx.hosts);
  if (!host) throw new AppError("api_domain_invalid", `stored api_domain is not an allowed Pipedrive host (${toBareHost(row.storedApiDomain).slice(0, 80)})`);
  return host;
}

function toAccess(accessToken: string, apiHost: string, expires: Date, ctx: PipedriveContext): AccessToken {
  return { accessToken, apiHost, apiBaseUrl: apiBaseUrl(apiHost, ctx.hosts), expiresAt: expires };
}

/** The tenant's row, its host checked, and repaired in place if another writer left a URL. */
async function readChecked(ctx: PipedriveContext, tenantId: string): Promise<{ row: TokenRow; host: string }> {
  const row = await readToken(tenantId);
  if (!row) throw new AppError("not_connected");
  const host = checkedHost(row, ctx);
  if (row.storedApiDomain !== host) await repairApiDomain(tenantId, row.storedApiDomain, host);
  return { row, host };
}

/**
 * A token that is valid for at least the skew. `rejectedToken`: the API just answered 401
 * to this token, so replace it even if it looks valid (once, whoever asks first).
 */
export type TokenOptions = {
  /** The API just answered 401 to this token: replace it even if it looks valid. */
  rejectedToken?: string;
  /** Renew when less than this is left (the keeper's window); default: the just-in-time skew. */
  skewSeconds?: number;
  /** Renew if the refresh token was last used before this (the keeper's idle rule). */
  usedBefore?: Date;
};

export async function getValidAccessToken(ctx: PipedriveContext, tenantId: string, options: TokenOptions = {}): Promise<AccessToken> {
  const { row, host } = await readChecked(ctx, tenantId);
  if (row.status === "needs_reconnect" && isKnownRejected(row)) throw new AppError("needs_reconnect");
  const rejected = options.rejectedToken !== undefined && row.accessToken === options.rejectedToken;
  // A needs_reconnect row whose refresh token has changed since it was refused gets tried.
  if (row.status !== "needs_reconnect" && !rejected && !isStale(row, ctx, options.skewSeconds) && options.usedBefore === undefined) {
    return { ...toAccess(row.accessToken, host, row.expiresAt, ctx), blockedUntil: row.blockedUntil };
  }
  // Callers with other needs (the keeper's window) do not share a just-in-time refresh's promise.
  const key = options.skewSeconds === undefined && options.usedBefore === undefined ? tenantId : `${tenantId}:keeper`;
  let pending = inflight.get(key);
  if (!pending) {
    pending = refreshOnce(ctx, tenantId, options).finally(() => inflight.delete(key));
    inflight.set(key, pending);
  }
  return pending;
}

type LockedResult = { ok: AccessToken } | { refused: string } | { dead: true };

/** Rounds of "refused, but rotated by someone else": each round sees a newer refresh token. */
const MAX_ROUNDS = 3;

async function refreshOnce(ctx: PipedriveContext, tenantId: string, options: TokenOptions): Promise<AccessToken> {
  const { rejectedToken } = options;
  for (let round = 1; ; round++) {
    const result = await withLockedToken(tenantId, async (locked): Promise<LockedResult> => {
      const row = locked.row;
      if (!row) throw new AppError("not_connected");
      const host = checkedHost(row, ctx);
      // Refused a moment ago (by another process of ours, or before a restart): never resend it.
      if (isKnownRejected(row)) return row.status === "needs_reconnect" ? { dead: true } : { refused: row.refreshToken };
      const healing = row.status === "needs_reconnect";
      const idle = options.usedBefore !== undefined && (row.refreshTokenUsedAt === null || row.refreshTokenUsedAt < options.usedBefore);
      const needed = healing || idle || isStale(row, ctx, options.skewSeconds) || (rejectedToken !== undefined && row.accessToken === rejectedToken);
      if (!needed) return { ok: toAccess(row.accessToken, host, row.expiresAt, ctx) };
      let tokens: TokenSet;
      try {
        tokens = await refreshWithRetries(ctx, row.refreshToken);
      } catch (error) {
        if (!isPipedriveError(error, "invalid_grant")) throw toApiAppError(error, ctx.now);
        // Not a verdict yet: commit the refusal so our other processes do not resend it,
        // and release the lock so a writer queued behind it can land its rotation.
        await locked.recordRejected();
        return { refused: row.refreshToken };
      }
      const now = ctx.now();
      const saved = { ...tokens, apiHost: tokens.apiHost ?? host };
      const expires = expiresAt(now, tokens.expiresInSeconds);
      await locked.saveRefreshed(saved, now, nextRefreshAt(expires, now, ctx.keeper));
      return { ok: { ...toAccess(saved.accessToken, saved.apiHost, expires, ctx), renewed: true } };
    });
    if ("ok" in result) return result.ok;
    if ("dead" in result) throw new AppError("needs_reconnect");
    if (!(await waitForRotation(ctx, tenantId, result.refused))) {
      const verdict = await withLockedToken(tenantId, async (locked) => {
        if (!locked.row) return "gone" as const;
        if (locked.row.refreshToken !== result.refused) return "rotated" as const;
        await locked.markNeedsReconnect(GRANT_GONE, ctx.now());
        return "dead" as const;
      });
      if (verdict === "gone") throw new AppError("not_connected");
      if (verdict === "dead") throw new AppError("needs_reconnect", "refresh token rejected");
    }
    if (round >= MAX_ROUNDS) throw new AppError("pipedrive_unavailable", `refresh token kept changing under us (${round} rounds)`);
  }
}

/** Polls the row for a refresh token other than `refused`, for up to the rotation grace. */
async function waitForRotation(ctx: PipedriveContext, tenantId: string, refused: string): Promise<boolean> {
  const polls = Math.max(1, Math.ceil(ctx.rotationGraceMs / ROTATION_POLL_MS));
  for (let poll = 0; poll < polls; poll++) {
    const current = await readRefreshToken(tenantId);
    if (current === null) throw new AppError("not_connected");
    if (current !== refused) return true;
    await ctx.sleep(ROTATION_POLL_MS);
  }
  return false;
}

const ROTATION_POLL_MS = 100;

async function refreshWithRetries(ctx: PipedriveContext, refreshToken: string): Promise<TokenSet> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ctx.tokenBreaker.execute(() => ctx.oauth.refresh(refreshToken));
    } catch (error) {
      // After repeated timeouts or 5xx, fail at once for a cool-down instead of making every
      // tenant wait out its own timeouts (and hold its row lock) against a sick endpoint.
      if (isBrokenCircuitError(error)) {
        throw new AppError("pipedrive_unavailable", "token endpoint failing repeatedly: not calling it during the cool-down", { cause: error });
      }
      if (!isPipedriveError(error, "unavailable")) throw error;
      if (attempt >= ctx.refreshAttempts) {
        throw new AppError("pipedrive_unavailable", `refresh failed ${attempt} times: ${error.message}`, { cause: error });
      }
      await ctx.sleep(backoffMs(attempt, 200, 2_000, ctx.random));
    }
  }
}

/** Pipedrive failures as the errors users see. */
export function toApiAppError(error: unknown, now: () => Date = () => new Date()): unknown {
  if (!(error instanceof PipedriveError)) return error;
  switch (error.kind) {
    case "rate_limited":
      return error.details.retryAfterMs === undefined
        ? new AppError("rate_limited", error.message, { cause: error })
        : rateLimitedUntil(new Date(now().getTime() + error.details.retryAfterMs), error.message);
    case "unavailable":
      return new AppError("pipedrive_unavailable", error.message, { cause: error });
    case "invalid_grant":
    case "unauthorized":
      return new AppError("needs_reconnect", error.message, { cause: error });
    case "invalid_client":
      return new AppError("app_credentials_rejected", error.message, { cause: error });
    default:
      return new AppError("pipedrive_rejected", error.message, { cause: error });
  }
}

/**
 * Runs an API call with a valid token. A 401 on a token we believed valid gets one forced
 * refresh and one retry; a second 401 means the grant is gone.
 */
export async function withAccessToken<T>(ctx: PipedriveContext, tenantId: string, call: (token: AccessToken) => Promise<T>): Promise<T> {
  const token = await getValidAccessToken(ctx, tenantId);
  if (token.blockedUntil && token.blockedUntil > ctx.now()) throw rateLimitedUntil(token.blockedUntil, "company rate-limited (recorded by another caller)");
  try {
    return await call(token);
  } catch (error) {
    if (!isPipedriveError(error, "unauthorized")) throw await rememberLongLimit(ctx, token, toApiAppError(error, ctx.now));
  }
  const fresh = await getValidAccessToken(ctx, tenantId, { rejectedToken: token.accessToken });
  try {
    return await call(fresh);
  } catch (error) {
    if (isPipedriveError(error, "unauthorized")) {
      await withLockedToken(tenantId, (locked) => locked.markNeedsReconnect(REFUSED_AFTER_REFRESH, ctx.now()));
      throw new AppError("needs_reconnect", describe(error));
    }
    throw await rememberLongLimit(ctx, fresh, toApiAppError(error, ctx.now));
  }
}

/** A limit we would not wait out (a spent daily budget) is written down for every process. */
async function rememberLongLimit(ctx: PipedriveContext, token: AccessToken, error: unknown): Promise<unknown> {
  if (error instanceof AppError && error.code === "rate_limited" && error.retryAt) {
    await blockCompany(token.apiHost, error.retryAt, error.message);
  }
  return error;
}
