import "server-only";

import { isBrokenCircuitError } from "cockatiel";

import { AppError, describe, renewalChecking } from "../../errors.ts";
import { log } from "../../log.ts";
import { count } from "../../metrics/metric-store.ts";
import { allowedApiHost, apiBaseUrl, toBareHost } from "../client/api-domain.ts";
import { backoffMs, isPipedriveError, toAppErrorFromPipedrive } from "../client/http.ts";
import type { TokenSet } from "../client/oauth-client.ts";
import { missingScopes } from "../client/scopes.ts";
import {
  clearSuspicion,
  fingerprint,
  isKnownRejected,
  markNeedsReconnect,
  markRefreshed,
  markSuspected,
  recordRejected,
  type NeedsReconnectReason,
} from "../connection/connection-store.ts";
import type { ConnectionStatus } from "../connection/lifecycle.ts";
import type { PipedriveContext } from "../context.ts";
import { readTokenPair, withLockedToken, writeRefreshedTokens, type Locked, type TokenRow } from "./contract-store.ts";
import { emitRefreshOutcome } from "./hooks.ts";
import { expiresAt, isStale, keeperShouldRenew, nextRefreshAt } from "./policy.ts";

// A refresh that happens once, however many callers ask at the same moment: processes queue on
// the row lock and re-read after it, so only the first one finds the token still stale.
//
// The lead-enrichment service refreshes the same rows without our lock. When its refresh
// reaches Pipedrive first, ours gets invalid_grant although the grant is alive: its new
// token is about to land in the row. So invalid_grant proves the grant is gone only when,
// after a short wait, the row still holds exactly what Pipedrive refused.

export type AccessToken = {
  accessToken: string;
  apiHost: string;
  apiBaseUrl: string;
  expiresAt: Date;
  blockedUntil?: Date | null;
  /** The connection's state as of this token (a paused one makes no API call). */
  status: ConnectionStatus;
  /** This call renewed the token at Pipedrive. */
  renewed?: boolean;
};

/** Who asks decides when renewing is needed: a caller about to use the token, or the keeper. */
export type RefreshNeed = { by: "caller"; rejectedToken?: string } | { by: "keeper" };

const GRANT_GONE: NeedsReconnectReason = {
  detail: "refresh token rejected (invalid_grant) and not rotated by another writer",
};

/** The row's host, if it is one we may send a token to; never a token to anywhere else. */
export function checkedHost(row: TokenRow, ctx: PipedriveContext): string {
  const host = allowedApiHost(row.storedApiDomain, ctx.hosts);
  if (!host) {
    throw new AppError(
      "api_domain_invalid",
      `stored api_domain is not an allowed Pipedrive host (${toBareHost(row.storedApiDomain).slice(0, 80)})`,
    );
  }
  return host;
}

export function toAccess(
  accessToken: string,
  apiHost: string,
  expires: Date,
  status: ConnectionStatus | null,
  ctx: PipedriveContext,
): AccessToken {
  return {
    accessToken,
    apiHost,
    apiBaseUrl: apiBaseUrl(apiHost, ctx.hosts),
    expiresAt: expires,
    status: status ?? "connected",
  };
}

/** What one round under the row lock found, tagged by `kind` as every result of a connection's life is. */
type Round =
  | { kind: "ok"; token: AccessToken; recovered: boolean }
  /** Pipedrive refused the pair with this fingerprint; not judged yet. */
  | { kind: "refused"; fingerprint: string }
  /** Already judged gone. */
  | { kind: "dead" }
  | { kind: "checking"; verdictDueAt: Date }
  /** Judged gone by this round. */
  | { kind: "confirmed" };

/** What the row says once the rotation grace is over. */
type Verdict =
  | { kind: "gone" }
  | { kind: "rotated" }
  | { kind: "checking"; verdictDueAt: Date }
  | { kind: "confirmed" }
  | { kind: "dead" };

/** Rounds of "refused, but rotated by someone else": each round sees a newer refresh token. */
const MAX_ROUNDS = 3;

function needsRenewal(row: TokenRow, ctx: PipedriveContext, need: RefreshNeed): boolean {
  const now = ctx.now();
  if (row.status === "needs_reconnect") return true; // healing: the row holds a token not yet refused
  if (need.by === "keeper") return keeperShouldRenew(row, ctx.keeper, now);
  return (
    isStale(row.expiresAt, now, ctx.skewSeconds) ||
    (need.rejectedToken !== undefined && row.accessToken === need.rejectedToken)
  );
}

export async function refreshOnce(ctx: PipedriveContext, tenantId: string, need: RefreshNeed): Promise<AccessToken> {
  for (let round = 1; ; round++) {
    const result = await withLockedToken(tenantId, async (locked): Promise<Round> => {
      const row = locked.row;
      if (!row) throw new AppError("not_connected");
      const host = checkedHost(row, ctx);
      // Refused a moment ago (by another process of ours, or before a restart): never resend it.
      if (isKnownRejected(row)) {
        if (row.status === "needs_reconnect") return { kind: "dead" };
        if (!row.suspectedAt) return { kind: "refused", fingerprint: fingerprint(row) };
        // Awaiting the verdict: callers get a temporary error at once; once the grace is over, it is confirmed.
        const due = new Date(row.suspectedAt.getTime() + ctx.verdictGraceMs);
        if (ctx.now() < due) return { kind: "checking", verdictDueAt: due };
        return (await markNeedsReconnect(locked.client, tenantId, row, GRANT_GONE, ctx.now()))
          ? { kind: "confirmed" }
          : { kind: "dead" };
      }
      // Refused before, and since moved on by another writer: the suspicion was a false alarm.
      if (row.suspectedAt) await clearSuspicion(locked.client, tenantId);
      if (!needsRenewal(row, ctx, need))
        return { kind: "ok", token: toAccess(row.accessToken, host, row.expiresAt, row.status, ctx), recovered: false };
      let tokens: TokenSet;
      try {
        tokens = await refreshWithRetries(ctx, row.refreshToken);
      } catch (error) {
        count("pipedrive_refreshes_total", isPipedriveError(error, "invalid_grant") ? "refused" : "failed");
        if (!isPipedriveError(error, "invalid_grant")) throw toAppErrorFromPipedrive(error, ctx.now);
        // Not a verdict yet: commit the refusal so our other processes do not resend it,
        // and release the lock so a writer queued behind it can land its rotation.
        await recordRejected(locked.client, tenantId, row);
        return { kind: "refused", fingerprint: fingerprint(row) };
      }
      const saved = { ...tokens, apiHost: tokens.apiHost ?? host };
      const { expires, recovered, status } = await saveRefreshed(locked, saved, ctx);
      return {
        kind: "ok",
        token: { ...toAccess(saved.accessToken, saved.apiHost, expires, status, ctx), renewed: true },
        recovered,
      };
    });
    switch (result.kind) {
      case "ok":
        // After the commit: whatever a hook does, the new tokens are already saved.
        if (result.token.renewed)
          await emitRefreshOutcome({ tenantId, result: "renewed", recovered: result.recovered });
        return result.token;
      case "dead":
        throw new AppError("needs_reconnect");
      case "checking":
        throw renewalChecking(result.verdictDueAt, "refresh token refused, verdict pending");
      case "confirmed":
        await emitRefreshOutcome({ tenantId, result: "needs_reconnect", reason: GRANT_GONE.detail });
        throw new AppError("needs_reconnect", "refresh token rejected, and still the row's after the grace period");
      case "refused":
        break;
    }
    if (!(await waitForRotation(ctx, tenantId, result.fingerprint))) {
      const verdict = await withLockedToken(tenantId, async (locked): Promise<Verdict> => {
        if (!locked.row) return { kind: "gone" };
        if (fingerprint(locked.row) !== result.fingerprint) return { kind: "rotated" };
        if (ctx.verdictGraceMs > 0) {
          const now = ctx.now();
          const verdictDueAt = new Date(now.getTime() + ctx.verdictGraceMs);
          await markSuspected(locked.client, tenantId, now, verdictDueAt);
          return { kind: "checking", verdictDueAt };
        }
        const marked = await markNeedsReconnect(locked.client, tenantId, locked.row, GRANT_GONE, ctx.now());
        return marked ? { kind: "confirmed" } : { kind: "dead" };
      });
      switch (verdict.kind) {
        case "gone":
          throw new AppError("not_connected");
        case "checking":
          throw renewalChecking(
            verdict.verdictDueAt,
            "refresh token rejected; confirmed only if still the row's after the grace",
          );
        case "confirmed":
          await emitRefreshOutcome({ tenantId, result: "needs_reconnect", reason: GRANT_GONE.detail });
          throw new AppError("needs_reconnect", "refresh token rejected");
        case "dead":
          throw new AppError("needs_reconnect", "refresh token rejected");
        case "rotated":
          break;
      }
    }
    if (round >= MAX_ROUNDS)
      throw new AppError("pipedrive_unavailable", `refresh token kept changing under us (${round} rounds)`);
  }
}

/**
 * Pipedrive may have rotated the refresh token already, so the old one may be dead: the token
 * UPDATE must commit whatever happens after it. Our bookkeeping runs behind a savepoint.
 */
async function saveRefreshed(
  locked: Locked,
  tokens: TokenSet & { apiHost: string },
  ctx: PipedriveContext,
): Promise<{ expires: Date; recovered: boolean; status: ConnectionStatus | null }> {
  const now = ctx.now();
  const expires = expiresAt(now, tokens.expiresInSeconds);
  await writeRefreshedTokens(locked, tokens, now);
  await locked.client.query("SAVEPOINT bookkeeping");
  try {
    const { recovered, status } = await markRefreshed(locked.client, locked.row!.tenantId, {
      missingScopes: tokens.scopes === null ? null : missingScopes(tokens.scopes, ctx.requiredScopes),
      scopes: tokens.scopes,
      now,
      nextRefreshAt: nextRefreshAt(expires, now, ctx.keeper),
    });
    await locked.client.query("RELEASE SAVEPOINT bookkeeping");
    return { expires, recovered, status: status ?? locked.row!.status };
  } catch (error) {
    await locked.client.query("ROLLBACK TO SAVEPOINT bookkeeping");
    log().error(
      { tenant: locked.row!.tenantId, error: describe(error) },
      "saved refreshed tokens, but not the connection's bookkeeping",
    );
    return { expires, recovered: false, status: locked.row!.status };
  }
}

/** Polls the row for tokens other than the refused ones, for up to the rotation grace. */
async function waitForRotation(ctx: PipedriveContext, tenantId: string, refused: string): Promise<boolean> {
  const polls = Math.max(1, Math.ceil(ctx.rotationGraceMs / ROTATION_POLL_MS));
  for (let poll = 0; poll < polls; poll++) {
    const current = await readTokenPair(tenantId);
    if (current === null) throw new AppError("not_connected");
    if (fingerprint(current) !== refused) return true;
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
        throw new AppError(
          "pipedrive_unavailable",
          "token endpoint failing repeatedly: not calling it during the cool-down",
          {
            cause: error,
          },
        );
      }
      if (!isPipedriveError(error, "unavailable")) throw error;
      if (attempt >= ctx.refreshAttempts) {
        throw new AppError("pipedrive_unavailable", `refresh failed ${attempt} times: ${error.message}`, {
          cause: error,
        });
      }
      await ctx.sleep(backoffMs(attempt, 200, 2_000, ctx.random));
    }
  }
}
