import "server-only";

import { env } from "../env.ts";
import { AppError, errorCodes, toAppError, type ErrorCode } from "../errors.ts";
import { NO_STORE } from "../http/responses.ts";
import { log } from "../log.ts";
import { LIMITS, take } from "../rate-limit-store.ts";
import { serviceOf } from "./service-auth.ts";

// The one wrapper of the routes services call (/api/services/…): the key, the per-key rate
// limit, one log line naming the service (never its key or a token), and one mapping from a
// condition to an answer in the caller's words (errors.ts).

export type ServiceAnswer = { status: number; body: unknown; headers?: Record<string, string> };

/** 409: only a person can help (reconnect, permissions, payment). 503: wait and ask again. */
const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  invalid_input: 400,
  bad_request: 400,
  too_large: 413,
  not_connected: 404,
  needs_reconnect: 409,
  needs_permissions: 409,
  subscription_lapsed: 409,
  access_forbidden: 409,
  api_domain_invalid: 409,
  app_credentials_rejected: 409,
  renewal_checking: 503,
  rate_limited: 503,
  pipedrive_unavailable: 503,
  lookup_stopped: 503,
  busy: 503,
};

export function serviceRoute(
  name: string,
  handler: (request: Request, service: string) => Promise<ServiceAnswer>,
): (request: Request) => Promise<Response> {
  return async (request) => {
    const service = serviceOf(request.headers.get("authorization"), env().SERVICE_API_KEYS);
    if (!service)
      return Response.json(
        { error: { code: "unauthorized", message: "A service key is needed: Authorization: Bearer <key>." } },
        { status: 401, headers: { ...NO_STORE, "WWW-Authenticate": 'Bearer realm="services"' } },
      );
    let answer: ServiceAnswer;
    const spent = await take({ ...LIMITS.serviceCalls, points: env().SERVICE_CALLS_PER_MINUTE }, service);
    if ("wait" in spent) {
      answer = {
        status: 429,
        body: { error: { code: "too_many_requests", message: "Too many calls from this service; slow down." } },
        headers: { "Retry-After": String(spent.wait) },
      };
    } else {
      answer = await handler(request, service).catch((error: unknown) => refusal(toAppError(error), new Date()));
    }
    log().info({ route: name, service, status: answer.status }, "service call");
    return Response.json(answer.body, { status: answer.status, headers: { ...NO_STORE, ...answer.headers } });
  };
}

/** A condition, or input we cannot use, as the caller's error in words; never a token. */
export function refusal(error: AppError, now: Date): ServiceAnswer {
  const status = STATUS_OF[error.code] ?? 500;
  if (status === 500) log().error({ error: error.message }, "service call failed");
  const retryAt = status === 503 ? (error.retryAt ?? new Date(now.getTime() + 60_000)) : null;
  const code = status === 500 ? "internal" : error.code;
  const custom = error.userMessage !== errorCodes[error.code];
  return {
    status,
    body: {
      error: {
        code,
        message: status !== 500 && custom ? error.userMessage : errorCodes[code],
        ...(retryAt ? { retry_at: retryAt.toISOString() } : {}),
      },
    },
    headers: retryAt
      ? { "Retry-After": String(Math.max(1, Math.ceil((retryAt.getTime() - now.getTime()) / 1000))) }
      : {},
  };
}
