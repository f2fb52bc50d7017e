// Pipedrive's redirect back after consent (GET), and its uninstall notice (DELETE).
import { cookies } from "next/headers";

import { currentUser, presentedSessionKey } from "@/lib/auth/session.ts";
import { requestAddress } from "@/lib/auth/throttle.ts";
import { NO_STORE, redirectTo } from "@/lib/http/responses.ts";
import { redirectRoute } from "@/lib/http/route.ts";
import { requestLog } from "@/lib/log.ts";
import { handleUninstall } from "@/lib/pipedrive/connect/disconnect.ts";
import { completeAuthorizationInSession, STATE_COOKIE } from "@/lib/pipedrive/connect/flow.ts";
import { holdMarketplaceCode, stateless } from "@/lib/pipedrive/connect/marketplace.ts";
import { pipedrive } from "@/lib/pipedrive/context.ts";
import { ROUTES, signInUrl } from "@/lib/routes.ts";
import { outcomePath } from "@/lib/settings-outcomes.ts";

export const GET = redirectRoute("callback", async (request) => {
  const jar = await cookies();
  const query = Object.fromEntries(new URL(request.url).searchParams);
  const marketplace = stateless(query);
  if (marketplace) {
    // An install started on Pipedrive's Marketplace: hold the code, then sign in (if need be) and confirm.
    const [user, install] = await Promise.all([
      currentUser(),
      holdMarketplaceCode(pipedrive(), marketplace, requestAddress(request.headers)),
    ]);
    if ("held" in install) jar.set(install.held.name, install.held.value, install.held.options);
    // Anyone can send this, signed in or not: only our own words are logged, never the query's keys.
    requestLog(request, { tenant: user?.tenantId ?? null })[user ? "info" : "warn"](
      { outcome: "held" in install ? "install_held" : install.refused },
      "pipedrive callback",
    );
    if ("refused" in install) return redirectTo(outcomePath({ result: "error", reason: install.refused }));
    return redirectTo(user ? ROUTES.install : signInUrl(ROUTES.install));
  }
  const cookieState = jar.get(STATE_COOKIE)?.value;
  jar.delete({ name: STATE_COOKIE, path: ROUTES.callback });
  const { outcome, detail, user, confirm } = await completeAuthorizationInSession(
    pipedrive(),
    { key: await presentedSessionKey(), user: currentUser },
    { query, cookieState },
  );
  // Only the keys Pipedrive sends are logged; its code and state are redacted by the logger's configuration.
  requestLog(request, { tenant: user?.tenantId ?? null }).info(
    { outcome: outcomePath(outcome), detail, query: { code: query.code, state: query.state, error: query.error } },
    "pipedrive callback",
  );
  if (confirm) jar.set(confirm.name, confirm.value, confirm.options);
  return redirectTo(confirm ? ROUTES.installConfirm : outcomePath(outcome));
});

export async function DELETE(request: Request) {
  const result = await handleUninstall(pipedrive(), request);
  requestLog(request).info(
    { outcome: result.status, tenants: result.tenants, authorization: request.headers.get("authorization") },
    "pipedrive uninstall notice",
  );
  return Response.json({ ok: result.status === 200 }, { status: result.status, headers: NO_STORE });
}
