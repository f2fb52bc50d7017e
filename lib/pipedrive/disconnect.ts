import { describe } from "../errors.ts";
import type { TenantUser } from "../users/user-store.ts";
import { audit, getRefreshToken, removeConnection, tenantsConnectedToCompany } from "./connection-store.ts";
import type { PipedriveContext } from "./context.ts";
import { uninstallNotice } from "./schemas.ts";
import { basicAuth } from "./http.ts";
import { sameSecret } from "./state.ts";

/**
 * Revokes our grant at Pipedrive (best effort: a failed revoke is recorded, and the
 * connection is removed anyway), then deletes the tenant's row and metadata.
 */
export async function disconnect(ctx: PipedriveContext, admin: TenantUser): Promise<{ removed: boolean; revokeFailed: boolean }> {
  const refreshToken = await getRefreshToken(admin.tenantId);
  let revokeFailed = false;
  if (refreshToken) {
    try {
      await ctx.oauth.revoke(refreshToken);
    } catch (error) {
      revokeFailed = true;
      await audit(admin.tenantId, "revoke_failed", admin.id, { reason: describe(error) });
    }
  }
  const removed = await removeConnection(admin.tenantId, "disconnected", admin.id, { revoked: refreshToken !== null && !revokeFailed });
  return { removed, revokeFailed };
}

export type UninstallResult = { status: 200 | 400 | 401; tenants: number };

/** Pipedrive's DELETE to our callback URL when a user uninstalls the app. */
export async function handleUninstall(ctx: PipedriveContext, authorization: string | null, body: unknown): Promise<UninstallResult> {
  if (!authorization || !sameSecret(authorization, basicAuth(ctx.clientId, ctx.clientSecret))) return { status: 401, tenants: 0 };
  const notice = uninstallNotice.safeParse(body);
  if (!notice.success || notice.data.client_id !== ctx.clientId) return { status: 400, tenants: 0 };
  const tenants = await tenantsConnectedToCompany(notice.data.company_id);
  for (const tenantId of tenants) {
    await removeConnection(tenantId, "uninstalled", null, { companyId: notice.data.company_id, pipedriveUserId: notice.data.user_id });
  }
  return { status: 200, tenants: tenants.length };
}
