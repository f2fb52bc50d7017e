import { describe } from "../../errors.ts";
import { retryWhileBusy } from "../../retry-while-busy.ts";
import type { ErrorReason, Outcome } from "../../settings-outcomes.ts";
import type { TenantUser } from "../../users/user-store.ts";
import { apiBaseUrl } from "../client/api-domain.ts";
import { isPipedriveError } from "../client/http.ts";
import { RefusedTokenAnswer, type TokenSet } from "../client/oauth-client.ts";
import type { PipedriveMe } from "../client/schemas.ts";
import { missingScopes } from "../client/scopes.ts";
import { installOf, saveConnection } from "../connection/grant-store.ts";
import type { PipedriveContext } from "../context.ts";
import type { Install } from "../settings-view-store.ts";
import { audit } from "../tokens/audit-store.ts";
import { adoptTokenSet } from "../tokens/contract-store.ts";
import { expiresAt, nextRefreshAt } from "../tokens/policy.ts";
import { newInstallCookie, type InstallCookie } from "./install-cookie.ts";
import { holdGrant } from "./pending-install-store.ts";
import { giveBackStrayGrant, revokeGrant } from "./revoke.ts";

// A code, once its callback checks out: the consent's answer, the exchange, who granted, and the save.

/** `confirm`: a grant held for the admin's confirmation; the browser keeps this cookie and goes to confirm. */
export type CallbackResult = { outcome: Outcome; detail: string; confirm?: InstallCookie };

/** Where the callback sends the browser, and the install cookie it sets on the way. */
export type CallbackAnswer = { to: `/${string}`; cookie?: InstallCookie; stateUsed?: true };

export const failed = (reason: ErrorReason, detail: string): CallbackResult => ({
  outcome: { result: "error", reason },
  detail,
});

export type Flow = { code: string | undefined; error: string | undefined; pkceVerifier: string | null };

/** Pipedrive's consent page sends user_denied on Cancel or Deny; access_denied is OAuth's generic word. */
export const isCancel = (error: string | undefined): error is "user_denied" | "access_denied" =>
  error === "user_denied" || error === "access_denied";

export const cancelled = (how: string): CallbackResult => ({
  outcome: { result: "denied" },
  detail: `cancelled on the consent page (${how})`,
});

/** A verified callback: the consent's answer, the code's exchange, and the save. */
export async function redeem(ctx: PipedriveContext, user: TenantUser, flow: Flow): Promise<CallbackResult> {
  const { code, error } = flow;
  if (isCancel(error)) return cancelled(error);
  if (error || !code) {
    return failed("authorization_failed", error ? "authorization error from Pipedrive" : "callback without code");
  }
  if (user.role !== "admin") return failed("forbidden", "user is no longer an admin");

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
      return failed("exchange_failed", `${describe(exchangeError)}; its grant ${given === "done" ? "revoked" : given}`);
    }
    if (isPipedriveError(exchangeError, "unavailable") && exchangeError.details.timedOut)
      return failed("exchange_timeout", describe(exchangeError));
    return failed("exchange_failed", describe(exchangeError));
  }
  const me = await readMe(ctx, user, tokens);
  if ("failed" in me) return failed("profile_failed", me.failed);
  // Another Pipedrive user would replace this workspace's connection, and uninstall the app from
  // the previous user's account: that waits for the admin's yes. The same user reconnects at once.
  // From here the code is spent and the grant live: a busy database is waited out, not failed.
  const current = await retryWhileBusy(() => installOf(user.tenantId));
  if (current && !sameInstall(current, { companyId: me.company_id, pipedriveUserId: me.id })) {
    const { cookie, browserHash } = newInstallCookie(ctx.secureCookies);
    await retryWhileBusy(() =>
      holdGrant(browserHash, { tenantId: user.tenantId, userId: user.id, tokens, me }, ctx.now()),
    );
    return {
      outcome: { result: "confirm_switch" },
      detail: `switch from Pipedrive user ${current.pipedriveUserId} to ${me.id} held for confirmation`,
      confirm: cookie,
    };
  }
  return await saveGrant(ctx, user, tokens, me);
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
  const me = known ?? (await readMe(ctx, user, tokens));
  if ("failed" in me) return failed("profile_failed", me.failed);
  const install: Install = { companyId: me.company_id, pipedriveUserId: me.id };
  const missing = tokens.scopes === null ? [] : missingScopes(tokens.scopes, ctx.requiredScopes);
  const now = ctx.now();
  let saved;
  try {
    // A live grant is never lost to a busy database: the save is tried again within its bound.
    saved = await retryWhileBusy(() =>
      saveConnection({
        tenantId: user.tenantId,
        tokens,
        me,
        status: missing.length > 0 ? "needs_permissions" : "connected",
        actor: user,
        now,
        nextRefreshAt: nextRefreshAt(expiresAt(now, tokens.expiresInSeconds), now, ctx.keeper),
      }),
    );
  } catch (saveError) {
    await revokeGrant(
      ctx,
      { kind: "refresh_token", token: tokens.refreshToken, install },
      { tenantId: user.tenantId, actorUserId: user.id, why: "new grant, save failed" },
    );
    return failed("server_error", describe(saveError));
  }
  if (saved.kind === "held") {
    // The same install: if this exchange replaced its token set, the workspace holding it needs the new one.
    await adoptTokenSet(saved.by, tokens, now);
    await audit(user.tenantId, "connect_refused", user.id, {
      reason: "install_in_use",
      companyId: me.company_id,
      companyName: me.company_name,
    });
    return failed("install_in_use", `install ${me.company_id}:${me.id} is held by another workspace`);
  }
  // The install a reconnect replaced, if it was another one and nobody else holds it, is ours to give back.
  const replaced = saved.replaced;
  const switched = replaced !== null && !sameInstall(replaced.install, install);
  const revoke =
    switched && replaced.refreshToken
      ? await revokeGrant(
          ctx,
          { kind: "refresh_token", token: replaced.refreshToken, install: replaced.install },
          { tenantId: user.tenantId, actorUserId: user.id, why: "replaced by a reconnect as another Pipedrive user" },
        )
      : "kept";
  const detail = `${saved.kind} company ${me.company_id}`;
  if (missing.length > 0)
    return { outcome: { result: "needs_permissions" }, detail: `${detail}, missing ${missing.join(",")}` };
  if (saved.kind === "connected") return { outcome: { result: "connected" }, detail };
  return { outcome: switched ? { result: "switched", revoke } : { result: "reconnected" }, detail };
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
