import "server-only";

import { AppError, describe, rateLimitedUntil } from "../../errors.ts";
import { blockCompany } from "../client/company-limit-store.ts";
import { isPipedriveError, toAppErrorFromPipedrive } from "../client/http.ts";
import {
  isKnownRejected,
  markApiRefused,
  markApiWorks,
  markNeedsReconnect,
  notePause,
  refusedCallOf,
  type NeedsReconnectReason,
} from "../connection/connection-store.ts";
import { healsByProbe, isApiRefusal, pausesLookups, type ApiRefusal } from "../connection/lifecycle.ts";
import type { PipedriveContext } from "../context.ts";
import { readToken, repairApiDomain, withLockedToken, type TokenRow } from "./contract-store.ts";
import { emitRefreshOutcome } from "./hooks.ts";
import { isStale } from "./policy.ts";
import { checkedHost, refreshOnce, toAccess, type AccessToken } from "./refresh.ts";

// Tokens for callers about to use them. Callers in one process share one refresh promise;
// across processes the row lock in refresh.ts does the same.

export type { AccessToken } from "./refresh.ts";

const inflight = new Map<string, Promise<AccessToken>>();

const REFUSED_AFTER_REFRESH: NeedsReconnectReason = {
  detail: "HTTP 401 on a freshly refreshed access token",
};

/** The tenant's row, its host checked, and repaired in place if another writer left a URL. */
async function readChecked(ctx: PipedriveContext, tenantId: string): Promise<{ row: TokenRow; host: string }> {
  const row = await readToken(tenantId);
  if (!row) throw new AppError("not_connected");
  const host = checkedHost(row, ctx);
  if (row.storedApiDomain !== host) await repairApiDomain(tenantId, row.storedApiDomain, host);
  return { row, host };
}

/**
 * A token valid for at least the skew. `rejectedToken`: the API just answered 401 to this
 * token, so replace it even if it looks valid (once, whoever asks first).
 */
export async function getValidAccessToken(
  ctx: PipedriveContext,
  tenantId: string,
  options: { rejectedToken?: string } = {},
): Promise<AccessToken> {
  const { row, host } = await readChecked(ctx, tenantId);
  if (row.status === "needs_reconnect" && isKnownRejected(row)) throw new AppError("needs_reconnect");
  const rejected = options.rejectedToken !== undefined && row.accessToken === options.rejectedToken;
  // A needs_reconnect row that another writer has moved on since it was refused gets tried.
  if (row.status !== "needs_reconnect" && !rejected && !isStale(row.expiresAt, ctx.now(), ctx.skewSeconds)) {
    return { ...toAccess(row.accessToken, host, row.expiresAt, row.status, ctx), blockedUntil: row.blockedUntil };
  }
  return shared(tenantId, () => refreshOnce(ctx, tenantId, { by: "caller", rejectedToken: options.rejectedToken }));
}

/** The keeper's renewal: inside its window or idle too long, through the same exactly-once path. */
export async function renewForKeeper(ctx: PipedriveContext, tenantId: string): Promise<AccessToken> {
  const { row } = await readChecked(ctx, tenantId);
  if (row.status === "needs_reconnect" && isKnownRejected(row)) throw new AppError("needs_reconnect");
  // Not shared with a just-in-time refresh's promise: the keeper renews by a wider rule.
  return shared(`${tenantId}:keeper`, () => refreshOnce(ctx, tenantId, { by: "keeper" }));
}

function shared(key: string, refresh: () => Promise<AccessToken>): Promise<AccessToken> {
  let pending = inflight.get(key);
  if (!pending) {
    pending = refresh().finally(() => inflight.delete(key));
    inflight.set(key, pending);
  }
  return pending;
}

/**
 * Runs an API call with a valid token. A 401 on a token we believed valid gets one forced
 * refresh and one retry; a second 401 means the grant is gone. A connection that Pipedrive's
 * API refuses (402, 403) or that lacks a permission makes no call, unless this is the keeper's
 * probe; a call that works heals it.
 */
export async function withAccessToken<T>(
  ctx: PipedriveContext,
  tenantId: string,
  call: (token: AccessToken) => Promise<T>,
  /** probe: the keeper's look at a refused connection, and the kind of call it makes. */
  options: { probe?: ProbeCall } = {},
): Promise<T> {
  const token = await getValidAccessToken(ctx, tenantId);
  const paused = pausesLookups(token.status);
  if (paused && !(options.probe && healsByProbe(token.status))) throw new AppError(paused);
  if (token.blockedUntil && token.blockedUntil > ctx.now()) {
    throw rateLimitedUntil(token.blockedUntil, "company rate-limited (recorded by another caller)", ctx.now());
  }
  let result: T;
  try {
    result = await call(token);
  } catch (error) {
    if (!isPipedriveError(error, "unauthorized")) throw await afterRefusal(ctx, tenantId, token, error);
    result = await retryOnce(ctx, tenantId, token, call);
  }
  if (healsByProbe(token.status)) await markApiWorks(tenantId, options.probe ?? null, ctx.now());
  return result;
}

async function retryOnce<T>(
  ctx: PipedriveContext,
  tenantId: string,
  token: AccessToken,
  call: (token: AccessToken) => Promise<T>,
): Promise<T> {
  const fresh = await getValidAccessToken(ctx, tenantId, { rejectedToken: token.accessToken });
  try {
    return await call(fresh);
  } catch (error) {
    if (!isPipedriveError(error, "unauthorized")) throw await afterRefusal(ctx, tenantId, fresh, error);
    const marked = await withLockedToken(tenantId, (locked) =>
      markNeedsReconnect(locked.client, tenantId, locked.row, REFUSED_AFTER_REFRESH, ctx.now()),
    );
    if (marked) await emitRefreshOutcome({ tenantId, result: "needs_reconnect", reason: REFUSED_AFTER_REFRESH.detail });
    throw new AppError("needs_reconnect", describe(error));
  }
}

/** What a refused call means for everyone: a company's long rate limit, a lapsed subscription, a missing permission. */
async function afterRefusal(ctx: PipedriveContext, tenantId: string, token: AccessToken, error: unknown) {
  const appError = toAppErrorFromPipedrive(error, ctx.now);
  if (!(appError instanceof AppError)) return appError;
  if (isApiRefusal(appError.code)) {
    const call = isPipedriveError(error) ? (error.details.call ?? null) : null;
    await markApiRefused(tenantId, appError.code, { detail: appError.message, call }, ctx.now());
  }
  return rememberLongLimit(tenantId, token, appError);
}

type ProbeCall = "users/me" | "persons/search";

/** What the probe searches for: a number nobody has, so the answer is small. */
const PROBE_TERM = "0000000000";

/**
 * The keeper's look at a connection Pipedrive's API refused: one call of the kind that was
 * refused (a search refused while users/me works is only healed by a search working); its state after.
 */
export async function probeConnection(ctx: PipedriveContext, tenantId: string): Promise<"connected" | ApiRefusal> {
  const probe: ProbeCall = (await refusedCallOf(tenantId)) === "persons/search" ? "persons/search" : "users/me";
  try {
    await withAccessToken(
      ctx,
      tenantId,
      async (token) => {
        if (probe === "persons/search")
          await ctx.api.searchPersonsByPhoneTerm(token.apiBaseUrl, token.accessToken, PROBE_TERM);
        else await ctx.api.me(token.apiBaseUrl, token.accessToken);
      },
      { probe },
    );
    return "connected";
  } catch (error) {
    if (error instanceof AppError && isApiRefusal(error.code)) return error.code;
    throw error;
  }
}

/** A limit we would not wait out (a spent daily budget) is written down for every process. */
async function rememberLongLimit(tenantId: string, token: AccessToken, error: unknown): Promise<unknown> {
  if (error instanceof AppError && error.code === "rate_limited" && error.retryAt) {
    const pause = await blockCompany(token.apiHost, error.retryAt, error.message);
    if (pause.started) await notePause(tenantId, pause.until, error.message);
  }
  return error;
}
