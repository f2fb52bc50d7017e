import { createHash, randomBytes } from "node:crypto";

import type { VerifiedSession } from "../../auth/session.ts";
import { ROUTES } from "../../routes.ts";
import type { TenantUser } from "../../users/user-store.ts";
import type { PipedriveContext } from "../context.ts";
import { saveState } from "./state-store.ts";
import { issueState } from "./state.ts";

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
