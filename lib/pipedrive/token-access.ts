import { AppError, describe } from "../errors.ts";
import { apiBaseUrl } from "./api-domain.ts";
import { markNeedsReconnect } from "./connection-store.ts";
import type { PipedriveContext } from "./context.ts";
import { backoffMs, isPipedriveError, PipedriveError } from "./http.ts";
import type { TokenSet } from "./oauth-client.ts";
import { expiresAt, readToken, type TokenRow, withLockedToken, writeRefreshedTokens } from "./token-store.ts";

// Just-in-time refresh that happens once, however many callers ask at the same moment:
// callers in one process share one promise; processes queue on the row lock and re-read
// after it, so only the first one finds the token still stale and refreshes it.

export type AccessToken = { accessToken: string; apiHost: string; apiBaseUrl: string; expiresAt: Date };

const inflight = new Map<string, Promise<AccessToken>>();

function isStale(row: TokenRow, ctx: PipedriveContext): boolean {
  return row.expiresAt.getTime() - ctx.now().getTime() <= ctx.skewSeconds * 1000;
}

function toAccess(row: Pick<TokenRow, "accessToken" | "apiHost" | "expiresAt">, ctx: PipedriveContext): AccessToken {
  return { accessToken: row.accessToken, apiHost: row.apiHost, apiBaseUrl: apiBaseUrl(row.apiHost, ctx.hosts), expiresAt: row.expiresAt };
}

function usable(row: TokenRow | null): TokenRow {
  if (!row) throw new AppError("not_connected");
  if (row.status === "needs_reconnect") throw new AppError("needs_reconnect");
  return row;
}

/**
 * A token that is valid for at least the skew. `rejectedToken`: the API just answered 401
 * to this token, so replace it even if it looks valid (once, whoever asks first).
 */
export async function getValidAccessToken(
  ctx: PipedriveContext,
  tenantId: string,
  options: { rejectedToken?: string } = {},
): Promise<AccessToken> {
  const row = usable(await readToken(tenantId));
  const rejected = options.rejectedToken !== undefined && row.accessToken === options.rejectedToken;
  if (!rejected && !isStale(row, ctx)) return toAccess(row, ctx);

  let pending = inflight.get(tenantId);
  if (!pending) {
    pending = refreshUnderLock(ctx, tenantId, options.rejectedToken).finally(() => inflight.delete(tenantId));
    inflight.set(tenantId, pending);
  }
  return pending;
}

async function refreshUnderLock(ctx: PipedriveContext, tenantId: string, rejectedToken: string | undefined): Promise<AccessToken> {
  const result = await withLockedToken(tenantId, async (locked, tx) => {
    const row = usable(locked);
    const stillNeeded = isStale(row, ctx) || (rejectedToken !== undefined && row.accessToken === rejectedToken);
    if (!stillNeeded) return { ok: toAccess(row, ctx) };
    let tokens: TokenSet;
    try {
      tokens = await refreshWithRetries(ctx, row.refreshToken);
    } catch (error) {
      if (isPipedriveError(error, "invalid_grant")) {
        // Committed with the transaction below, then reported.
        await markNeedsReconnect(tenantId, "Pipedrive rejected the refresh token (invalid_grant)", ctx.now(), tx);
        return { needsReconnect: true as const };
      }
      throw toApiAppError(error);
    }
    const now = ctx.now();
    await writeRefreshedTokens(tx, tenantId, tokens, row.refreshToken, now);
    return {
      ok: toAccess({ accessToken: tokens.accessToken, apiHost: tokens.apiHost, expiresAt: expiresAt(now, tokens.expiresInSeconds) }, ctx),
    };
  });
  if ("needsReconnect" in result) throw new AppError("needs_reconnect", "refresh token rejected");
  return result.ok;
}

async function refreshWithRetries(ctx: PipedriveContext, refreshToken: string): Promise<TokenSet> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ctx.oauth.refresh(refreshToken);
    } catch (error) {
      if (!isPipedriveError(error, "unavailable")) throw error;
      if (attempt >= ctx.refreshAttempts) {
        throw new AppError("pipedrive_unavailable", `refresh failed ${attempt} times: ${error.message}`, { cause: error });
      }
      await ctx.sleep(backoffMs(attempt, 200, 2_000, ctx.random));
    }
  }
}

/** Pipedrive failures as the errors users see. */
export function toApiAppError(error: unknown): unknown {
  if (!(error instanceof PipedriveError)) return error;
  switch (error.kind) {
    case "rate_limited":
      return new AppError("rate_limited", error.message, { cause: error });
    case "unavailable":
      return new AppError("pipedrive_unavailable", error.message, { cause: error });
    case "invalid_grant":
    case "unauthorized":
      return new AppError("needs_reconnect", error.message, { cause: error });
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
  try {
    return await call(token);
  } catch (error) {
    if (!isPipedriveError(error, "unauthorized")) throw toApiAppError(error);
  }
  const fresh = await getValidAccessToken(ctx, tenantId, { rejectedToken: token.accessToken });
  try {
    return await call(fresh);
  } catch (error) {
    if (isPipedriveError(error, "unauthorized")) {
      await markNeedsReconnect(tenantId, "Pipedrive answered 401 to a freshly refreshed token", ctx.now());
      throw new AppError("needs_reconnect", describe(error));
    }
    throw toApiAppError(error);
  }
}
