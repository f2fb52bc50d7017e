import { sameSecret } from "../../crypto.ts";
import { readCapped } from "../../http/body.ts";
import { log } from "../../log.ts";
import type { RevokeResult } from "../../settings-outcomes.ts";
import type { TenantUser } from "../../users/user-store.ts";
import { basicAuth } from "../client/http.ts";
import { uninstallNotice } from "../client/schemas.ts";
import { removeConnection } from "../connection/grant-store.ts";
import type { PipedriveContext } from "../context.ts";
import { connectedAs, installHolders } from "../settings-view-store.ts";
import { getRefreshToken } from "../tokens/contract-store.ts";
import { revokeGrant } from "./revoke.ts";

/**
 * Removes the workspace's connection. The admin asked to remove the app, so our install is
 * revoked at Pipedrive (which uninstalls it for that Pipedrive user), unless another workspace
 * uses the same install. A failed revoke is recorded; the connection goes anyway.
 */
export async function disconnect(
  ctx: PipedriveContext,
  admin: TenantUser,
): Promise<{ removed: boolean; revoke: RevokeResult | "none" }> {
  const refreshToken = await getRefreshToken(admin.tenantId);
  const install = await connectedAs(admin.tenantId);
  // The admin asked to remove the app: the install goes too, unless another workspace uses it.
  const revoke: RevokeResult | "none" =
    refreshToken && install
      ? await revokeGrant(
          ctx,
          { kind: "refresh_token", token: refreshToken, install, holder: admin.tenantId },
          { tenantId: admin.tenantId, actorUserId: admin.id, why: "disconnected" },
        )
      : "none";
  const removed = await removeConnection(admin.tenantId, "disconnected", admin.id, { revoke, by: admin.name });
  return { removed, revoke };
}

export type UninstallResult = { status: 200 | 400 | 401 | 413; tenants: number };

/** Pipedrive's notice is a few small fields; anything larger is not from Pipedrive. */
const MAX_NOTICE_BYTES = 4096;

/**
 * Pipedrive's DELETE to our callback URL when a user uninstalls the app. Nothing of the body is
 * read before the Basic auth checks out, and never more than MAX_NOTICE_BYTES of it.
 */
export async function handleUninstall(ctx: PipedriveContext, request: Request): Promise<UninstallResult> {
  const authorization = request.headers.get("authorization");
  if (!authorization || !sameSecret(authorization, basicAuth(ctx.clientId, ctx.clientSecret))) {
    return { status: 401, tenants: 0 };
  }
  const bytes = await readCapped(request, MAX_NOTICE_BYTES);
  if (bytes === null) return { status: 413, tenants: 0 };
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    return { status: 400, tenants: 0 };
  }
  const notice = uninstallNotice.safeParse(body);
  if (!notice.success || notice.data.client_id !== ctx.clientId) return { status: 400, tenants: 0 };
  // An install is one Pipedrive user's in one company: another user's uninstall is not ours.
  const install = { companyId: notice.data.company_id, pipedriveUserId: notice.data.user_id };
  const tenants = await installHolders(install);
  for (const tenantId of tenants) {
    await removeConnection(tenantId, "uninstalled", null, { ...install });
  }
  if (tenants.length === 0)
    log().info({ install }, "uninstall notice for an install no workspace holds: nothing changed");
  return { status: 200, tenants: tenants.length };
}
