// One error type for everything the app reports on purpose. `code` decides what the
// user sees (a short sentence) and the HTTP status; `message` and `cause` are for logs only.

export const errorCodes = {
  unauthenticated: { status: 401, user: "Please sign in to continue." },
  forbidden: { status: 403, user: "Only a workspace admin can do that." },
  invalid_input: { status: 400, user: "That input is not valid." },
  cross_site: { status: 403, user: "That request did not come from this site." },
  not_connected: { status: 409, user: "Pipedrive is not connected for this workspace." },
  needs_reconnect: { status: 409, user: "The Pipedrive connection has expired. An admin needs to reconnect it." },
  rate_limited: { status: 429, user: "Pipedrive is limiting requests right now. Try again in a minute." },
  pipedrive_unavailable: { status: 502, user: "Pipedrive did not answer. Try again in a moment." },
  pipedrive_rejected: { status: 502, user: "Pipedrive refused the request." },
  internal: { status: 500, user: "Something went wrong on our side." },
} as const;

export type ErrorCode = keyof typeof errorCodes;

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string = errorCodes[code].user,
    options?: { cause?: unknown; userMessage?: string },
  ) {
    super(message, options);
    this.name = "AppError";
    this.userMessage = options?.userMessage ?? errorCodes[code].user;
  }
  readonly userMessage: string;
}

export function isAppError(error: unknown, code?: ErrorCode): error is AppError {
  return error instanceof AppError && (code === undefined || error.code === code);
}

/** Anything thrown, as the AppError a user may see; unknown errors become `internal`. */
export function toAppError(error: unknown): AppError {
  return error instanceof AppError ? error : new AppError("internal", describe(error), { cause: error });
}

/** A log-safe one-liner for any thrown value. */
export function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** JSON body and status for API route handlers. */
export function errorResponse(error: unknown): Response {
  const appError = toAppError(error);
  if (appError.code === "internal") console.error("[api] internal error:", describe(appError.cause ?? appError));
  return Response.json(
    { error: { code: appError.code, message: appError.userMessage } },
    { status: errorCodes[appError.code].status, headers: { "Cache-Control": "no-store" } },
  );
}
