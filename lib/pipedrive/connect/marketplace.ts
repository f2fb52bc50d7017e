import "server-only";

import { z } from "zod";

import { describe } from "../../errors.ts";
import { log, requestLog } from "../../log.ts";
import { LIMITS, spend } from "../../rate-limit-store.ts";
import { ROUTES, signInUrl } from "../../routes.ts";
import { outcomePath, type ErrorReason } from "../../settings-outcomes.ts";
import type { TenantUser } from "../../users/user-store.ts";
import { RefusedTokenAnswer } from "../client/oauth-client.ts";
import type { PipedriveMe } from "../client/schemas.ts";
import type { PipedriveContext } from "../context.ts";
import { connectedAs } from "../settings-view-store.ts";
import { audit } from "../tokens/audit-store.ts";
import { readMe, saveGrant, type CallbackAnswer, type CallbackResult } from "./grant.ts";
import { hashOf, newInstallCookie, type InstallCookie } from "./install-cookie.ts";
import {
  attachGrant,
  dropHeld,
  dropPending,
  findPending,
  holdCode,
  PURGE_BATCH,
  purgeExpiredPending,
  takePending,
} from "./pending-install-store.ts";
import { giveBackStrayGrant, revokeGrant } from "./revoke.ts";

// Installs that start on Pipedrive's Marketplace reach our callback with a code and no state.
// Pipedrive's instructions: keep the code (5 minutes), have the user sign in, exchange it, and
// resume. A code in a link may be someone else's (login CSRF), so nothing is linked until the
// signed-in admin has seen whose Pipedrive account it is and pressed Connect.

export { INSTALL_COOKIE } from "./install-cookie.ts";

/**
 * Pipedrive does not document its codes' format; every one seen is made of URL-safe characters
 * (RFC 3986 unreserved) and is far shorter than 512. Anything else is not Pipedrive's, and is
 * never stored.
 */
const PIPEDRIVE_CODE = /^[A-Za-z0-9._~-]{8,512}$/;

const marketplaceCallback = z.object({
  code: z.string(),
  state: z.undefined().optional(),
  error: z.undefined().optional(),
});

/**
 * A callback that carries a code and neither state nor error: an install started on Pipedrive's
 * side. Null for any other callback; `malformed` when the code cannot be one of Pipedrive's.
 */
export function stateless(query: Record<string, string | undefined>): { code: string } | "malformed" | null {
  const parsed = marketplaceCallback.safeParse(query);
  if (!parsed.success) return null;
  return PIPEDRIVE_CODE.test(parsed.data.code) ? { code: parsed.data.code } : "malformed";
}

export type HeldInstall = { held: InstallCookie } | { refused: "install_expired" | "install_busy" };

/**
 * Keeps a stateless callback's code server-side, bound to this browser by a fresh httpOnly
 * cookie. Nobody is signed in yet, so the callback is limited per client address: so many a
 * period, and so many unconfirmed at once.
 */
export async function holdMarketplaceCode(
  ctx: PipedriveContext,
  callback: { code: string } | "malformed",
  address: string,
): Promise<HeldInstall> {
  if (callback === "malformed") return { refused: "install_expired" };
  if ((await spend(LIMITS.installHoldByAddress, address)) > 0) return { refused: "install_busy" };
  const { cookie, browserHash } = newInstallCookie(ctx.secureCookies);
  if (!(await holdCode(browserHash, callback.code, address, ctx.now()))) return { refused: "install_busy" };
  return { held: cookie };
}

/** A Marketplace install's arrival at the callback: its code is held, then the person signs in (if need be) and confirms. */
export async function arriveFromMarketplace(
  ctx: PipedriveContext,
  request: Request,
  callback: { code: string } | "malformed",
  browser: { address: string; user: () => Promise<TenantUser | null> },
): Promise<CallbackAnswer> {
  const [user, install] = await Promise.all([browser.user(), holdMarketplaceCode(ctx, callback, browser.address)]);
  // Anyone can send this, signed in or not: only our own words are logged, never the query's keys.
  requestLog(request, { tenant: user?.tenantId ?? null })[user ? "info" : "warn"](
    { outcome: "held" in install ? "install_held" : install.refused },
    "pipedrive callback",
  );
  if ("refused" in install) return { to: outcomePath({ result: "error", reason: install.refused }) };
  return { to: user ? ROUTES.install : signInUrl(ROUTES.install), cookie: install.held };
}

export type ResumeResult = "confirm" | "expired" | "admins_only" | "failed";

/** Why a resumed install did not reach its confirmation, as the settings page says it. */
export const RESUME_REFUSED = {
  expired: "install_expired",
  admins_only: "install_admins_only",
  failed: "profile_failed",
} as const satisfies Record<Exclude<ResumeResult, "confirm">, ErrorReason>;

/**
 * For the signed-in user: an admin's pending code is exchanged and its Pipedrive user read, to be
 * confirmed; a member's is dropped unexchanged.
 */
export async function resumeInstall(
  ctx: PipedriveContext,
  user: TenantUser,
  cookie: string | undefined,
): Promise<ResumeResult> {
  if (!cookie) return "expired";
  const browser = hashOf(cookie);
  const now = ctx.now();
  const pending = await findPending(browser, now);
  if (!pending) return "expired";
  if (user.role !== "admin") {
    await dropPending(browser);
    return "admins_only";
  }
  if (pending.grant) {
    return pending.grant.tenantId === user.tenantId && pending.grant.userId === user.id ? "confirm" : "expired";
  }
  if (!pending.code || pending.codeExpiresAt <= now) {
    await dropPending(browser);
    return "expired";
  }
  let tokens;
  try {
    tokens = await ctx.oauth.exchangeCode(pending.code, null);
  } catch (error) {
    if (error instanceof RefusedTokenAnswer)
      await giveBackStrayGrant(ctx, error.strayGrant(), {
        tenantId: user.tenantId,
        actorUserId: user.id,
        why: "token answer refused",
      });
    // A replayed or expired code, mostly: Pipedrive answers invalid_grant.
    log().info({ tenant: user.tenantId, error: describe(error) }, "marketplace code not exchanged");
    await dropPending(browser);
    return "expired";
  }
  const me = await readMe(ctx, user, tokens);
  if ("failed" in me) {
    await dropPending(browser);
    return "failed";
  }
  await attachGrant(browser, { tenantId: user.tenantId, userId: user.id, tokens, me }, ctx.now());
  return "confirm";
}

/** A Deny for the install this browser holds: dropped, unexchanged. Whether there was one. */
export async function dropHeldInstall(ctx: PipedriveContext, cookie: string | undefined): Promise<boolean> {
  return cookie ? await dropHeld(hashOf(cookie), ctx.now()) : false;
}

/** What the confirmation page shows: whose Pipedrive account, for this admin and workspace only. */
export async function pendingInstallFor(
  ctx: PipedriveContext,
  user: TenantUser,
  cookie: string | undefined,
): Promise<PipedriveMe | null> {
  if (!cookie) return null;
  const pending = await findPending(hashOf(cookie), ctx.now());
  const grant = pending?.grant;
  return grant && grant.tenantId === user.tenantId && grant.userId === user.id ? grant.me : null;
}

/** Connect: the same path as a connect started here (audit, keeper schedule, banners). Single use. */
export async function confirmInstall(
  ctx: PipedriveContext,
  user: TenantUser,
  cookie: string | undefined,
): Promise<CallbackResult> {
  const grant = cookie ? await takePending(hashOf(cookie), user.tenantId, user.id, ctx.now()) : null;
  if (!grant) return { outcome: { result: "error", reason: "install_expired" }, detail: "no pending install" };
  return saveGrant(ctx, user, grant.tokens, grant.me);
}

/**
 * Cancel: the connection is left as it is, and the grant is given back if no workspace holds that
 * install. A cancelled switch of Pipedrive user is kept in the activity log, naming both users.
 */
export async function cancelInstall(ctx: PipedriveContext, user: TenantUser, cookie: string | undefined) {
  const grant = cookie ? await takePending(hashOf(cookie), user.tenantId, user.id, ctx.now()) : null;
  if (grant) {
    await revokeGrant(
      ctx,
      { kind: "refresh_token", token: grant.tokens.refreshToken, install: installOfMe(grant.me) },
      { tenantId: user.tenantId, actorUserId: user.id, why: "marketplace install cancelled" },
    );
    const current = await connectedAs(user.tenantId);
    if (current && (current.companyId !== grant.me.company_id || current.pipedriveUserId !== grant.me.id)) {
      await audit(user.tenantId, "switch_cancelled", user.id, {
        companyName: current.companyName,
        pipedriveUserName: current.pipedriveUserName,
        toPipedriveUserName: grant.me.name,
        toCompanyName: grant.me.company_name,
      });
    }
  }
  return {
    outcome: { result: "install_cancelled" },
    detail: grant ? "pending grant dropped" : "nothing pending",
  } as const;
}

/** The keeper's purge: abandoned confirmations go, a batch at a time, and their grants are given back when ours alone. */
export async function purgeAbandonedInstalls(ctx: PipedriveContext): Promise<number> {
  let removed = 0;
  for (;;) {
    const batch = await purgeExpiredPending(ctx.now());
    removed += batch.removed;
    for (const grant of batch.grants) {
      await revokeGrant(
        ctx,
        { kind: "refresh_token", token: grant.tokens.refreshToken, install: installOfMe(grant.me) },
        { tenantId: grant.tenantId, actorUserId: null, why: "marketplace install abandoned" },
      );
    }
    if (batch.removed < PURGE_BATCH) return removed;
  }
}

const installOfMe = (me: PipedriveMe) => ({ companyId: me.company_id, pipedriveUserId: me.id });
