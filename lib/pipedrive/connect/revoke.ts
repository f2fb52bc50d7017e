import "server-only";

import { describe } from "../../errors.ts";
import { log } from "../../log.ts";
import type { RevokeResult } from "../../settings-outcomes.ts";
import { apiBaseUrl } from "../client/api-domain.ts";
import type { StrayGrant } from "../client/oauth-client.ts";
import type { PipedriveContext } from "../context.ts";
import { installHolders, type Install } from "../settings-view-store.ts";
import { audit } from "../tokens/audit-store.ts";
import { isRefreshTokenHeld } from "../tokens/contract-store.ts";

/**
 * The one way a token goes back to Pipedrive. Revoking a refresh token uninstalls the app for
 * its Pipedrive user and company, so it is revoked only when no workspace holds that install
 * (but `holder`, the workspace giving it up). An access token is only itself. A failure is
 * recorded for the workspace, never thrown: the caller's flow goes on.
 */
export async function revokeGrant(
  ctx: PipedriveContext,
  grant:
    | { kind: "access_token"; token: string }
    /** install null: whose it is cannot be learnt, and no workspace holds this token (giveBackStrayGrant). */
    | { kind: "refresh_token"; token: string; install: Install | null; holder?: string },
  on: { tenantId: string; actorUserId: string | null; why: string },
): Promise<RevokeResult> {
  if (grant.kind === "refresh_token" && grant.install) {
    const others = (await installHolders(grant.install)).filter((tenant) => tenant !== grant.holder);
    if (others.length > 0) return "kept";
  }
  try {
    await ctx.oauth.revoke(grant.token, grant.kind);
    return "done";
  } catch (error) {
    const reason = describe(error);
    await audit(on.tenantId, "revoke_failed", on.actorUserId, { why: on.why, reason }).catch(() => {
      log().warn({ tenant: on.tenantId, reason }, "revoke at Pipedrive failed, and so did recording it");
    });
    return "failed";
  }
}

/**
 * A grant in a token answer we refused (RefusedTokenAnswer), given back only if it is ours
 * alone. Kept when a workspace holds its refresh token (a re-grant of an install answered with
 * the grant it already has) or, when its company's API can be asked, when a workspace holds its
 * install. When neither can be asked, a refresh token no workspace holds is one nobody else can
 * be using: under Pipedrive's model a re-grant either returns the held grant or replaces it.
 */
export async function giveBackStrayGrant(
  ctx: PipedriveContext,
  stray: StrayGrant,
  on: { tenantId: string; actorUserId: string | null; why: string },
): Promise<RevokeResult> {
  if (!stray.refreshToken) {
    return stray.accessToken ? revokeGrant(ctx, { kind: "access_token", token: stray.accessToken }, on) : "kept";
  }
  if (await isRefreshTokenHeld(stray.refreshToken)) return "kept";
  let install: Install | null = null;
  if (stray.accessToken && stray.apiHost) {
    try {
      const me = await ctx.api.me(apiBaseUrl(stray.apiHost, ctx.hosts), stray.accessToken);
      install = { companyId: me.company_id, pipedriveUserId: me.id };
    } catch (error) {
      log().info({ tenant: on.tenantId, error: describe(error) }, "whose refused grant this is, Pipedrive did not say");
    }
  }
  return revokeGrant(ctx, { kind: "refresh_token", token: stray.refreshToken, install }, on);
}
