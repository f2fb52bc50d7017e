import { createHash, randomBytes } from "node:crypto";

import { z } from "zod";

import { describe } from "../errors.ts";
import type { TenantUser } from "../users/user-store.ts";
import { apiBaseUrl } from "./api-domain.ts";
import type { PipedriveContext } from "./context.ts";
import { isPipedriveError } from "./http.ts";
import type { ErrorReason, Outcome } from "./outcomes.ts";
import { consumeState, saveState } from "./state-store.ts";
import { issueState, sameSecret, verifyState } from "./state.ts";
import { audit, saveConnection } from "./tokens/connection-health.ts";
import { getRefreshToken } from "./tokens/contract-store.ts";
import { expiresAt, nextRefreshAt } from "./tokens/policy.ts";

export const STATE_COOKIE = "pd_oauth_state";
export const CALLBACK_PATH = "/api/integrations/pipedrive/callback";

export type StateCookie = {
  name: string;
  value: string;
  options: { httpOnly: true; sameSite: "lax"; secure: boolean; path: string; maxAge: number };
};

/** Issues a state bound to this admin, this tenant and (through the cookie) this browser. */
export async function startAuthorization(ctx: PipedriveContext, admin: TenantUser) {
  const now = ctx.now();
  const { state, nonceHash } = issueState(ctx.stateKey);
  // PKCE binds the code to this flow: a code leaked from another flow cannot be redeemed here.
  const pkceVerifier = ctx.pkce ? randomBytes(32).toString("base64url") : null;
  await saveState({
    nonceHash,
    tenantId: admin.tenantId,
    userId: admin.id,
    now,
    expiresAt: new Date(now.getTime() + ctx.stateTtlSeconds * 1000),
    pkceVerifier,
  });
  const cookie: StateCookie = {
    name: STATE_COOKIE,
    value: state,
    // Lax, not Strict: the cookie must ride along on Pipedrive's top-level redirect back.
    options: {
      httpOnly: true,
      sameSite: "lax",
      secure: ctx.secureCookies,
      path: CALLBACK_PATH,
      maxAge: ctx.stateTtlSeconds,
    },
  };
  const challenge = pkceVerifier ? createHash("sha256").update(pkceVerifier).digest("base64url") : null;
  return { url: ctx.oauth.authorizeUrl(state, challenge), cookie };
}

const callbackQuery = z.object({
  code: z.string().min(1).max(1024).optional(),
  state: z.string().min(1).max(200).optional(),
  error: z.string().max(100).optional(),
});

export type CallbackInput = { query: Record<string, string | undefined>; cookieState: string | undefined };

export type CallbackResult = { outcome: Outcome; detail: string };

/**
 * Everything between Pipedrive's redirect and the settings page. Never throws: every path
 * ends in an outcome, and nothing is written unless the whole flow checks out.
 */
export async function completeAuthorization(
  ctx: PipedriveContext,
  user: TenantUser | null,
  input: CallbackInput,
): Promise<CallbackResult> {
  const fail = (reason: ErrorReason, detail: string): CallbackResult => ({
    outcome: { result: "error", reason },
    detail,
  });
  try {
    const query = callbackQuery.safeParse(input.query);
    if (!query.success) return fail("state_invalid", "malformed callback query");
    const { code, state, error } = query.data;

    if (!user) return fail("session_missing", "no session at callback");
    // Marketplace installs arrive without state; we never trust such a callback.
    if (!state) return fail("state_missing", "callback without state");
    const nonceHash = verifyState(ctx.stateKey, state);
    if (!nonceHash) return fail("state_invalid", "state signature invalid");
    if (!input.cookieState || !sameSecret(input.cookieState, state))
      return fail("state_invalid", "state not started in this browser");

    const consumed = await consumeState(nonceHash, user.tenantId, user.id, ctx.now());
    if (consumed.result === "unknown") return fail("state_invalid", "state not issued to this user and tenant");
    if (consumed.result === "reused") return fail("state_reused", "state already used");
    if (consumed.result === "expired") return fail("state_expired", "state expired");

    if (error === "access_denied") return { outcome: { result: "denied" }, detail: "user denied access" };
    if (error || !code)
      return fail("authorization_failed", error ? "authorization error from Pipedrive" : "callback without code");
    if (user.role !== "admin") return fail("forbidden", "user is no longer an admin");

    let tokens;
    try {
      tokens = await ctx.oauth.exchangeCode(code, consumed.result === "ok" ? consumed.pkceVerifier : null);
    } catch (exchangeError) {
      return fail("exchange_failed", describe(exchangeError));
    }
    // From here on we hold a live grant: whatever fails, it is revoked rather than left behind.
    let me;
    try {
      me = await ctx.api.me(apiBaseUrl(tokens.apiHost, ctx.hosts), tokens.accessToken);
    } catch (meError) {
      await revokeQuietly(ctx, user, tokens.refreshToken, "new grant, profile read failed");
      return fail("profile_failed", describe(meError));
    }
    const replaced = await getRefreshToken(user.tenantId).catch(() => null);
    const now = ctx.now();
    const nextRefresh = nextRefreshAt(expiresAt(now, tokens.expiresInSeconds), now, ctx.keeper);
    let event;
    try {
      event = await saveConnection({
        tenantId: user.tenantId,
        tokens,
        me,
        actor: user,
        now,
        nextRefreshAt: nextRefresh,
      });
    } catch (saveError) {
      await revokeQuietly(ctx, user, tokens.refreshToken, "new grant, save failed");
      return fail("server_error", describe(saveError));
    }
    // The grant a reconnect replaced is no longer ours to hold.
    if (replaced && replaced !== tokens.refreshToken)
      await revokeQuietly(ctx, user, replaced, "replaced by a reconnect");
    return { outcome: { result: "connected" }, detail: `${event} company ${me.company_id}` };
  } catch (unexpected) {
    return fail("server_error", isPipedriveError(unexpected) ? unexpected.message : describe(unexpected));
  }
}

/** Revokes a grant we will not use; a failure is recorded, never shown as the flow's outcome. */
async function revokeQuietly(ctx: PipedriveContext, user: TenantUser, refreshToken: string, why: string) {
  try {
    await ctx.oauth.revoke(refreshToken);
  } catch (error) {
    await audit(user.tenantId, "revoke_failed", user.id, { why, reason: describe(error) }).catch(() => {});
  }
}
