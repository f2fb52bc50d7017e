import "server-only";

import { describe } from "../errors.ts";
import { log } from "../log.ts";
import { installHolders, type Install } from "./connection-store.ts";
import type { PipedriveContext } from "./context.ts";
import type { RevokeResult } from "./outcomes.ts";
import { audit } from "./tokens/connection-health.ts";

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
    | { kind: "refresh_token"; token: string; install: Install; holder?: string },
  on: { tenantId: string; actorUserId: string | null; why: string },
): Promise<RevokeResult> {
  if (grant.kind === "refresh_token") {
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
