// Pipedrive's redirect back after consent (GET), and its uninstall notice (DELETE).
import { cookies } from "next/headers";

import { currentUser, presentedSessionKey } from "@/lib/auth/session.ts";
import { requestAddress } from "@/lib/auth/throttle.ts";
import { BUSY_RETRY_MS, describe, isBusy } from "@/lib/errors.ts";
import { NO_STORE, redirectTo } from "@/lib/http/responses.ts";
import { redirectRoute } from "@/lib/http/route.ts";
import { requestLog } from "@/lib/log.ts";
import { STATE_COOKIE } from "@/lib/pipedrive/connect/authorize.ts";
import { answerCallback } from "@/lib/pipedrive/connect/callback.ts";
import { handleUninstall } from "@/lib/pipedrive/connect/disconnect.ts";
import { INSTALL_COOKIE } from "@/lib/pipedrive/connect/marketplace.ts";
import { pipedrive } from "@/lib/pipedrive/context.ts";
import { ROUTES } from "@/lib/routes.ts";

export const GET = redirectRoute("callback", async (request) => {
  const jar = await cookies();
  const browser = {
    address: requestAddress(request.headers),
    cookieState: jar.get(STATE_COOKIE)?.value,
    installCookie: jar.get(INSTALL_COOKIE)?.value,
    sessionKey: presentedSessionKey,
    user: currentUser,
  };
  const answer = await answerCallback(pipedrive(), request, browser);
  if (answer.stateUsed) jar.delete({ name: STATE_COOKIE, path: ROUTES.callback });
  if (answer.cookie) jar.set(answer.cookie.name, answer.cookie.value, answer.cookie.options);
  return redirectTo(answer.to);
});

export async function DELETE(request: Request) {
  let result: Awaited<ReturnType<typeof handleUninstall>>;
  try {
    result = await handleUninstall(pipedrive(), request);
  } catch (error) {
    if (!isBusy(error)) throw error;
    // Pipedrive sends the notice again; nothing of it was done.
    requestLog(request).warn({ error: describe(error) }, "pipedrive uninstall notice: database busy, answered 503");
    return Response.json(
      { ok: false, error: { code: "busy" } },
      { status: 503, headers: { ...NO_STORE, "Retry-After": String(BUSY_RETRY_MS / 1000) } },
    );
  }
  requestLog(request).info(
    { outcome: result.status, tenants: result.tenants, authorization: request.headers.get("authorization") },
    "pipedrive uninstall notice",
  );
  return Response.json({ ok: result.status === 200 }, { status: result.status, headers: NO_STORE });
}
