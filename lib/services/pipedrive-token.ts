import "server-only";

import { z } from "zod";

import { AppError, rateLimitedUntil } from "../errors.ts";
import { pausesLookups } from "../pipedrive/connection/lifecycle.ts";
import type { PipedriveContext } from "../pipedrive/context.ts";
import { getValidAccessToken } from "../pipedrive/tokens/access.ts";
import type { ServiceAnswer } from "./service-call.ts";

// A fresh Pipedrive token for a service, through our single-flight refresh under the row lock:
// a service that takes its tokens here never refreshes, and never races our refresher. A
// condition is answered in the caller's words (service-call.ts), never with a token.

/**
 * A service's token has at least this long left: the lead-enrichment service refreshes on its
 * own when under five minutes are, so it gets a minute more than that (for its clock and its
 * work), whatever our own just-in-time skew is set to.
 */
export const SERVICE_TOKEN_MIN_SECONDS = 360;

export async function tokenForService(ctx: PipedriveContext, rawTenantId: string | null): Promise<ServiceAnswer> {
  const tenant = z.uuid().safeParse(rawTenantId);
  if (!tenant.success) throw new AppError("invalid_input", "tenant_id is not a uuid");
  const token = await getValidAccessToken(
    { ...ctx, skewSeconds: Math.max(ctx.skewSeconds, SERVICE_TOKEN_MIN_SECONDS) },
    tenant.data,
  );
  const paused = pausesLookups(token.status);
  if (paused) throw new AppError(paused);
  if (token.blockedUntil && token.blockedUntil > ctx.now())
    throw rateLimitedUntil(token.blockedUntil, "company paused", ctx.now());
  return {
    status: 200,
    body: { access_token: token.accessToken, api_domain: token.apiHost, expires_at: token.expiresAt.toISOString() },
  };
}
