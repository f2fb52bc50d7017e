import type { Logger } from "pino";
import { z } from "zod";

import { currentUser } from "../auth/session.ts";
import { AppError, describe, toAppError } from "../errors.ts";
import { requestLog } from "../log.ts";
import { ROUTES, signInUrl } from "../routes.ts";
import { outcomePath } from "../settings-outcomes.ts";
import type { TenantUser } from "../users/user-store.ts";
import { declaredTooLarge, formFieldsOf, readCapped } from "./body.ts";
import { busyAnswer } from "./busy.ts";
import { isSameOrigin, NO_STORE, redirectTo } from "./responses.ts";

// The guards every form route of the settings page needs, in one place: same-site check, body
// cap, zod form parsing, the signed-in user and role, a request logger, and one mapping from
// errors to answers. A route states only what differs.

export type FormRouteContext<F> = { request: Request; user: TenantUser; form: F; log: Logger };

export type FormRouteOptions<F> = {
  /** Names the route in logs. */
  name: string;
  role: "user" | "admin";
  /** Fields of the posted form; anything malformed is `invalid_input`. */
  form: z.ZodType<F>;
  /** Declared bodies larger than this are refused before anything is read. */
  maxBodyBytes: number;
};

/** A same-site form POST from the settings page that ends back there (303). */
export function formRoute<F>(
  options: FormRouteOptions<F>,
  handler: (ctx: FormRouteContext<F>) => Promise<Response>,
): (request: Request) => Promise<Response> {
  return async (request) => {
    if (!isSameOrigin(request)) return toResponse(new AppError("cross_site"), options.name, request);
    if (declaredTooLarge(request, options.maxBodyBytes)) {
      return toResponse(new AppError("too_large"), options.name, request);
    }
    try {
      const user = await currentUser();
      if (!user) throw new AppError("unauthenticated");
      if (options.role === "admin" && user.role !== "admin") throw new AppError("forbidden");
      const body = await readCapped(request, options.maxBodyBytes);
      if (body === null) throw new AppError("too_large");
      const fields = await formFieldsOf(request, body);
      if (fields === null) throw new AppError("bad_request", "the body is not a well-formed form");
      const form = options.form.safeParse(Object.fromEntries(fields));
      if (!form.success) throw new AppError("invalid_input", "form fields did not parse");
      return await handler({ request, user, form: form.data, log: requestLog(request, { tenant: user.tenantId }) });
    } catch (error) {
      return toResponse(error, options.name, request);
    }
  };
}

/** A route Pipedrive or the browser reaches by redirect: whatever fails ends on the settings page. */
export function redirectRoute(
  name: string,
  handler: (request: Request) => Promise<Response>,
): (request: Request) => Promise<Response> {
  return async (request) => {
    try {
      return await handler(request);
    } catch (error) {
      return toResponse(error, name, request, 302);
    }
  };
}

/**
 * The one place errors become answers. Refusals that no page of ours can cause (cross-site,
 * oversized, unreadable) are JSON; everything else ends on the settings page with a banner, never a bare 500.
 */
export function toResponse(error: unknown, route: string, request: Request, status: 302 | 303 = 303): Response {
  const appError = toAppError(error);
  switch (appError.code) {
    case "cross_site":
      return Response.json({ error: { code: "cross_site" } }, { status: 403, headers: NO_STORE });
    case "too_large":
      return Response.json({ error: { code: "too_large" } }, { status: 413, headers: NO_STORE });
    case "bad_request":
      return Response.json({ error: { code: "bad_request" } }, { status: 400, headers: NO_STORE });
    case "invalid_input":
      // No page of ours posts such a form: a tampered or hand-made request, not our failure.
      requestLog(request).warn({ route, error: appError.message }, "form refused");
      return Response.json({ error: { code: "invalid_input" } }, { status: 400, headers: NO_STORE });
    case "unauthenticated":
      return redirectTo(signInUrl(ROUTES.settings), status);
    case "forbidden":
      return redirectTo(outcomePath({ result: "error", reason: "forbidden" }), status);
    case "busy": {
      // A GET (Pipedrive's redirect back) can be tried again as it is: nothing of it was used.
      requestLog(request).warn({ route, error: appError.message }, "database busy: answered 503");
      const url = new URL(request.url);
      // Only ever a path of ours: never "//host", which a browser would read as another site.
      const again =
        request.method === "GET" && !url.pathname.startsWith("//")
          ? (`${url.pathname}${url.search}` as `/${string}`)
          : ROUTES.settings;
      return busyAnswer(again);
    }
    default:
      requestLog(request).error({ route, error: describe(appError.cause ?? appError) }, "pipedrive route failed");
      return redirectTo(outcomePath({ result: "error", reason: "server_error" }), status);
  }
}
