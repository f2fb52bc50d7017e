import { createHash, randomBytes } from "node:crypto";

import { z } from "zod";

import type { VerifiedSession } from "../../auth/session.ts";
import { describe } from "../../errors.ts";
import { log } from "../../log.ts";
import { ROUTES } from "../../routes.ts";
import type { ErrorReason, Outcome } from "../../settings-outcomes.ts";
import type { TenantUser } from "../../users/user-store.ts";
import { apiBaseUrl } from "../client/api-domain.ts";
import { isPipedriveError } from "../client/http.ts";
import { RefusedTokenAnswer, type TokenSet } from "../client/oauth-client.ts";
import type { PipedriveMe } from "../client/schemas.ts";
import { missingScopes } from "../client/scopes.ts";
import type { PipedriveContext } from "../context.ts";
import { connectedAs, type Install } from "../settings-view-store.ts";
import { adoptTokenSet } from "../tokens/contract-store.ts";
import { audit, saveConnection } from "../tokens/health-store.ts";
import { expiresAt, nextRefreshAt } from "../tokens/policy.ts";
import { newInstallCookie, type InstallCookie } from "./install-cookie.ts";
import { holdGrant } from "./pending-install-store.ts";
import { giveBackStrayGrant, revokeGrant } from "./revoke.ts";
import { claimStateInSession, consumeState, saveState } from "./state-store.ts";
import { issueState, sameSecret, verifyState } from "./state.ts";

export const STATE_COOKIE = "pd_oauth_state";

export type StateCookie = {
  name: string;
  value: string;
  options: { httpOnly: true; sameSite: "lax"; secure: boolean; path: string; maxAge: number };
};

/**
 * Issues a state bound to this admin, this tenant and (through the cookie) this browser. The
 * verified session it is started in is recorded, for the callback to recognise (without it, the
 * callback decrypts the session again).
 */
export async function startAuthorization(
  ctx: PipedriveContext,
  admin: TenantUser,
  session: VerifiedSession | null = null,
) {
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
    session: session && { ...session, version: admin.sessionVersion },
  });
  const cookie: StateCookie = {
    name: STATE_COOKIE,
    value: state,
    // Lax, not Strict: the cookie must ride along on Pipedrive's top-level redirect back.
    options: {
      httpOnly: true,
      sameSite: "lax",
      secure: ctx.secureCookies,
      path: ROUTES.callback,
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

/** `confirm`: a grant held for the admin's confirmation; the browser keeps this cookie and goes to confirm. */
export type CallbackResult = { outcome: Outcome; detail: string; confirm?: InstallCookie };

/** What the callback knows of its request's session before decrypting it. */
export type CallbackSession = { key: string | null; user: () => Promise<TenantUser | null> };

/**
 * The callback. When the request presents the very session its flow was started in, one
 * statement recognises it, re-reads the user and claims the state. Otherwise the session is
 * decrypted and everything checked in full, which also finds the reason for a refusal.
 */
export async function completeAuthorizationInSession(
  ctx: PipedriveContext,
  session: CallbackSession,
  input: CallbackInput,
): Promise<CallbackResult & { user: TenantUser | null }> {
  try {
    const checked = checkState(ctx, input);
    if (session.key && "nonceHash" in checked) {
      const claimed = await claimStateInSession(checked.nonceHash, session.key, ctx.now(), new Date());
      if (claimed) {
        const { user, pkceVerifier } = claimed;
        return { ...(await redeemAndRecord(ctx, user, { ...checked, pkceVerifier })), user };
      }
    }
    const user = await session.user();
    return { ...(await completeAuthorization(ctx, user, input)), user };
  } catch (unexpected) {
    return { ...unexpectedly(unexpected), user: null };
  }
}

type CheckedState = { nonceHash: string; code: string | undefined; error: string | undefined };

/** The state's own checks: present, signed by us, and started in this browser. */
function checkState(ctx: PipedriveContext, input: CallbackInput): CheckedState | CallbackResult {
  const fail = (reason: ErrorReason, detail: string): CallbackResult => ({
    outcome: { result: "error", reason },
    detail,
  });
  const query = callbackQuery.safeParse(input.query);
  if (!query.success) return fail("state_invalid", "malformed callback query");
  const { code, state, error } = query.data;
  // Marketplace installs arrive without state; we never trust such a callback.
  if (!state) return fail("state_missing", "callback without state");
  const nonceHash = verifyState(ctx.stateKey, state);
  if (!nonceHash) return fail("state_invalid", "state signature invalid");
  if (!input.cookieState || !sameSecret(input.cookieState, state))
    return fail("state_invalid", "state not started in this browser");
  return { nonceHash, code, error };
}

/**
 * Everything between Pipedrive's redirect and the settings page, for a session already
 * decrypted. Never throws: every path ends in an outcome, and nothing is written unless the
 * whole flow checks out.
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
    // Deny on a Marketplace install's consent comes back with no state: nothing was granted, so
    // there is nothing to check, and it is what it says. A signed-in admin's workspace logs it.
    if (!query.data.state && isCancel(query.data.error)) {
      const denied = cancelled(`${query.data.error}, without state (Marketplace)`);
      if (user?.role === "admin") await recordAttempt(user, denied);
      return denied;
    }
    if (!user) return fail("session_missing", "no session at callback");
    const checked = checkState(ctx, input);
    if (!("nonceHash" in checked)) return checked;
    const { nonceHash, code, error } = checked;

    const consumed = await consumeState(nonceHash, user.tenantId, user.id, ctx.now());
    if (consumed.result === "unknown") return fail("state_invalid", "state not issued to this user and tenant");
    if (consumed.result === "reused") return fail("state_reused", "state already used");
    if (consumed.result !== "ok") return fail("state_expired", "state expired");

    return await redeemAndRecord(ctx, user, { code, error, pkceVerifier: consumed.pkceVerifier });
  } catch (unexpected) {
    return unexpectedly(unexpected);
  }
}

type Flow = { code: string | undefined; error: string | undefined; pkceVerifier: string | null };

/** Pipedrive's consent page sends user_denied on Cancel or Deny; access_denied is OAuth's generic word. */
const isCancel = (error: string | undefined): error is "user_denied" | "access_denied" =>
  error === "user_denied" || error === "access_denied";

const cancelled = (how: string): CallbackResult => ({
  outcome: { result: "denied" },
  detail: `cancelled on the consent page (${how})`,
});

/** A claimed state: the flow is this admin's own, so how it ends goes to the workspace's activity log. */
async function redeemAndRecord(ctx: PipedriveContext, user: TenantUser, flow: Flow): Promise<CallbackResult> {
  const result = await redeem(ctx, user, flow).catch(unexpectedly);
  await recordAttempt(user, result);
  return result;
}

const unexpectedly = (error: unknown): CallbackResult => ({
  outcome: { result: "error", reason: "server_error" },
  detail: isPipedriveError(error) ? error.message : describe(error),
});

/** A verified callback: the consent's answer, the code's exchange, and the save. */
async function redeem(ctx: PipedriveContext, user: TenantUser, flow: Flow): Promise<CallbackResult> {
  const fail = (reason: ErrorReason, detail: string): CallbackResult => ({
    outcome: { result: "error", reason },
    detail,
  });
  const { code, error } = flow;
  if (isCancel(error)) return cancelled(error);
  if (error || !code) {
    return fail("authorization_failed", error ? "authorization error from Pipedrive" : "callback without code");
  }
  if (user.role !== "admin") return fail("forbidden", "user is no longer an admin");

  let tokens;
  try {
    tokens = await ctx.oauth.exchangeCode(code, flow.pkceVerifier);
  } catch (exchangeError) {
    if (exchangeError instanceof RefusedTokenAnswer) {
      const given = await giveBackStrayGrant(ctx, exchangeError.strayGrant(), {
        tenantId: user.tenantId,
        actorUserId: user.id,
        why: "token answer refused",
      });
      return fail("exchange_failed", `${describe(exchangeError)}; its grant ${given === "done" ? "revoked" : given}`);
    }
    if (isPipedriveError(exchangeError, "unavailable") && exchangeError.details.timedOut)
      return fail("exchange_timeout", describe(exchangeError));
    return fail("exchange_failed", describe(exchangeError));
  }
  const me = await readMe(ctx, user, tokens);
  if ("failed" in me) return fail("profile_failed", me.failed);
  // Another Pipedrive user would replace this workspace's connection, and uninstall the app from
  // the previous user's account: that waits for the admin's yes. The same user reconnects at once.
  const current = await connectedAs(user.tenantId);
  if (current && !sameInstall(current, { companyId: me.company_id, pipedriveUserId: me.id })) {
    const { cookie, browserHash } = newInstallCookie(ctx.secureCookies);
    await holdGrant(browserHash, { tenantId: user.tenantId, userId: user.id, tokens, me }, ctx.now());
    return {
      outcome: { result: "confirm_switch" },
      detail: `switch from Pipedrive user ${current.pipedriveUserId} to ${me.id} held for confirmation`,
      confirm: cookie,
    };
  }
  return await saveGrant(ctx, user, tokens, me);
}

/** A cancelled or failed connect, for the activity log (a refused install is logged where it is refused). */
async function recordAttempt(user: TenantUser, result: CallbackResult): Promise<void> {
  const { outcome } = result;
  const event =
    outcome.result === "denied"
      ? "connect_cancelled"
      : outcome.result === "error" && outcome.reason !== "install_in_use"
        ? "connect_failed"
        : null;
  if (!event) return;
  await audit(user.tenantId, event, user.id, outcome.result === "error" ? { reason: outcome.reason } : {}).catch(
    (auditError) => {
      log().warn({ tenant: user.tenantId, reason: describe(auditError) }, "recording a failed connect failed");
    },
  );
}

/**
 * From a live grant to a saved connection. Whatever fails, no install another workspace (or
 * this one) uses is ever revoked: revoking a refresh token uninstalls the app for that
 * Pipedrive user and company.
 */
export async function saveGrant(
  ctx: PipedriveContext,
  user: TenantUser,
  tokens: TokenSet & { refreshToken: string; apiHost: string },
  known?: PipedriveMe,
): Promise<CallbackResult> {
  const fail = (reason: ErrorReason, detail: string): CallbackResult => ({
    outcome: { result: "error", reason },
    detail,
  });
  const me = known ?? (await readMe(ctx, user, tokens));
  if ("failed" in me) return fail("profile_failed", me.failed);
  const install: Install = { companyId: me.company_id, pipedriveUserId: me.id };
  const missing = tokens.scopes === null ? [] : missingScopes(tokens.scopes, ctx.requiredScopes);
  const now = ctx.now();
  let saved;
  try {
    saved = await saveConnection({
      tenantId: user.tenantId,
      tokens,
      me,
      status: missing.length > 0 ? "needs_permissions" : "connected",
      actor: user,
      now,
      nextRefreshAt: nextRefreshAt(expiresAt(now, tokens.expiresInSeconds), now, ctx.keeper),
    });
  } catch (saveError) {
    await revokeGrant(
      ctx,
      { kind: "refresh_token", token: tokens.refreshToken, install },
      { tenantId: user.tenantId, actorUserId: user.id, why: "new grant, save failed" },
    );
    return fail("server_error", describe(saveError));
  }
  if ("heldBy" in saved) {
    // The same install: if this exchange replaced its token set, the workspace holding it needs the new one.
    await adoptTokenSet(saved.heldBy, tokens, now);
    await audit(user.tenantId, "connect_refused", user.id, {
      reason: "install_in_use",
      companyId: me.company_id,
      companyName: me.company_name,
    });
    return fail("install_in_use", `install ${me.company_id}:${me.id} is held by another workspace`);
  }
  // The install a reconnect replaced, if it was another one and nobody else holds it, is ours to give back.
  const replaced = saved.replaced;
  if (replaced?.refreshToken && !sameInstall(replaced.install, install)) {
    await revokeGrant(
      ctx,
      { kind: "refresh_token", token: replaced.refreshToken, install: replaced.install },
      { tenantId: user.tenantId, actorUserId: user.id, why: "replaced by a reconnect as another Pipedrive user" },
    );
  }
  const detail = `${saved.saved} company ${me.company_id}`;
  return missing.length > 0
    ? { outcome: { result: "needs_permissions" }, detail: `${detail}, missing ${missing.join(",")}` }
    : { outcome: { result: "connected" }, detail };
}

const sameInstall = (a: Install, b: Install) => a.companyId === b.companyId && a.pipedriveUserId === b.pipedriveUserId;

/** Who granted: the Pipedrive user and company behind a fresh grant. */
export async function readMe(
  ctx: PipedriveContext,
  user: TenantUser,
  tokens: { accessToken: string; apiHost: string },
): Promise<PipedriveMe | { failed: string }> {
  try {
    return await ctx.api.me(apiBaseUrl(tokens.apiHost, ctx.hosts), tokens.accessToken);
  } catch (meError) {
    // Whose install this is, we cannot tell: give back only the access token.
    await revokeGrant(
      ctx,
      { kind: "access_token", token: tokens.accessToken },
      { tenantId: user.tenantId, actorUserId: user.id, why: "new grant, profile read failed" },
    );
    return { failed: describe(meError) };
  }
}
