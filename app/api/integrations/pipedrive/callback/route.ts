// Pipedrive's redirect back after consent (GET), and its uninstall notice (DELETE).
import { cookies } from "next/headers";

import { currentUser, presentedSessionKey } from "@/lib/auth/session.ts";
import { NO_STORE, redirectTo } from "@/lib/http/responses.ts";
import { redirectRoute } from "@/lib/http/route.ts";
import { requestLog } from "@/lib/log.ts";
import { completeAuthorizationInSession, STATE_COOKIE } from "@/lib/pipedrive/connect.ts";
import { pipedrive } from "@/lib/pipedrive/context.ts";
import { handleUninstall } from "@/lib/pipedrive/disconnect.ts";
import { holdMarketplaceCode, INSTALL_RESUME_PATH, stateless } from "@/lib/pipedrive/marketplace.ts";
import { outcomePath } from "@/lib/pipedrive/outcomes.ts";

export const GET = redirectRoute("callback", async (request) => {
  const jar = await cookies();
  const query = Object.fromEntries(new URL(request.url).searchParams);
  const marketplaceCode = stateless(query);
  if (marketplaceCode) {
    const user = await currentUser();
    // An install started on Pipedrive's Marketplace: hold the code, then sign in (if need be) and confirm.
    const cookie = await holdMarketplaceCode(pipedrive(), marketplaceCode);
    jar.set(cookie.name, cookie.value, cookie.options);
    requestLog(request, { tenant: user?.tenantId ?? null }).info(
      { outcome: "install_held", query },
      "pipedrive callback",
    );
    return redirectTo(user ? INSTALL_RESUME_PATH : `/sign-in?callbackUrl=${encodeURIComponent(INSTALL_RESUME_PATH)}`);
  }
  const cookieState = jar.get(STATE_COOKIE)?.value;
  jar.delete({ name: STATE_COOKIE, path: "/api/integrations/pipedrive/callback" });
  const { outcome, detail, user } = await completeAuthorizationInSession(
    pipedrive(),
    { key: await presentedSessionKey(), user: currentUser },
    { query, cookieState },
  );
  // The query's code and state are redacted by the logger's configuration.
  requestLog(request, { tenant: user?.tenantId ?? null }).info(
    { outcome: outcomePath(outcome), detail, query },
    "pipedrive callback",
  );
  return redirectTo(outcomePath(outcome));
});

export async function DELETE(request: Request) {
  const result = await handleUninstall(pipedrive(), request);
  requestLog(request).info(
    { outcome: result.status, tenants: result.tenants, authorization: request.headers.get("authorization") },
    "pipedrive uninstall notice",
  );
  return Response.json({ ok: result.status === 200 }, { status: result.status, headers: NO_STORE });
}
