import "server-only";

import { AppError } from "../../errors.ts";
import { LIMITS, take } from "../../rate-limit-store.ts";
import type { Outcome } from "../../settings-outcomes.ts";
import type { TenantUser } from "../../users/user-store.ts";
import { liftCompanyPause } from "../client/company-limit-store.ts";
import { isPipedriveError } from "../client/http.ts";
import { isApiRefusal } from "../connection/lifecycle.ts";
import type { PipedriveContext } from "../context.ts";
import { getValidAccessToken, probeConnection } from "./access.ts";

// An admin's Check now, where only Pipedrive's answer can end a pause: a refusal by its API
// (402, 403) or its request limit. One call of the kind Pipedrive refused, once a minute per
// workspace, and what it found; the keeper would have looked within the hour anyway.

export async function checkNow(ctx: PipedriveContext, admin: TenantUser): Promise<Outcome> {
  if (admin.role !== "admin") throw new AppError("forbidden", "a member pressed Check now");
  const checked = (found: Extract<Outcome, { result: "checked" }>["found"]): Outcome => ({ result: "checked", found });
  if ("wait" in (await take(LIMITS.checkNow, admin.tenantId))) return checked("too_soon");
  const token = await getValidAccessToken(ctx, admin.tenantId).catch(() => null);
  if (!token) return checked("nothing_to_check");
  if (isApiRefusal(token.status)) {
    return checked((await probeConnection(ctx, admin.tenantId)) === "connected" ? "works" : "still_refused");
  }
  if (token.blockedUntil && token.blockedUntil > ctx.now()) {
    try {
      // The cheapest call there is (users/me): if Pipedrive answers it, its limit has lifted.
      await ctx.api.me(token.apiBaseUrl, token.accessToken);
    } catch (error) {
      if (isPipedriveError(error, "rate_limited")) return checked("still_paused");
      throw error;
    }
    await liftCompanyPause(token.apiHost);
    return checked("works");
  }
  return checked("nothing_to_check");
}
