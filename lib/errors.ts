import { CONDITION_WORDS } from "./pipedrive/conditions.ts";

// One error type for everything the app reports on purpose. `code` decides the short
// sentence a user sees; `message` and `cause` are for logs only. A connection's conditions
// speak in their own words (lib/pipedrive/conditions.ts), as the page and the mail do.

const conditionSays = (kind: keyof typeof CONDITION_WORDS) => CONDITION_WORDS[kind].caller!;

export const errorCodes = {
  unauthenticated: "Please sign in to continue.",
  forbidden: "Only a workspace admin can do that.",
  invalid_input: "That input is not valid.",
  cross_site: "That request did not come from this site.",
  too_large: "That request is too large.",
  bad_request: "That request could not be read.",
  not_connected: "Pipedrive is not connected for this workspace.",
  needs_permissions: conditionSays("needs_permissions"),
  subscription_lapsed: conditionSays("subscription_lapsed"),
  access_forbidden: conditionSays("access_forbidden"),
  needs_reconnect: conditionSays("needs_reconnect"),
  renewal_checking: conditionSays("checking_access"),
  api_domain_invalid: conditionSays("host_unrecognised"),
  rate_limited: "Pipedrive is limiting requests right now. Try again in a minute.",
  pipedrive_unavailable: "Pipedrive did not answer. Try again in a moment.",
  lookup_stopped:
    "Pipedrive answered slowly, so the lookup stopped before it had tried every way of writing this number. Try again in a while.",
  pipedrive_rejected: "Pipedrive refused the request.",
  app_credentials_rejected: conditionSays("unavailable"),
  busy: "The CRM is busy right now. Nothing was changed; try again in a few seconds.",
  internal: "Something went wrong on our side.",
} as const;

export type ErrorCode = keyof typeof errorCodes;

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string = errorCodes[code],
    options?: { cause?: unknown; userMessage?: string; retryAt?: Date },
  ) {
    super(message, options);
    this.name = "AppError";
    this.userMessage = options?.userMessage ?? errorCodes[code];
    this.retryAt = options?.retryAt ?? null;
  }
  readonly userMessage: string;
  /** For rate_limited: when Pipedrive lets us call again. */
  readonly retryAt: Date | null;
}

const clock = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: "UTC" });
const day = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });

/** "11:30 UTC", or with its date: "11:30 UTC on 7 Dec 2026". */
export const utcTime = (at: Date, withDate: boolean) =>
  withDate ? `${clock.format(at)} UTC on ${day.format(at)}` : `${clock.format(at)} UTC`;

/** The date is said when it is not today's (a pause can last a day). */
const resumeTime = (at: Date, now: Date) => utcTime(at, day.format(at) !== day.format(now));

/** Where a company's admins see what spent its Pipedrive budget: the paused banner and message name it. */
export const USAGE_HINT =
  "A Pipedrive admin can see what used it on Pipedrive's API usage page, in its company settings.";

export function rateLimitedUntil(retryAt: Date, detail: string, now: Date = new Date()): AppError {
  return new AppError("rate_limited", `${detail} (until ${retryAt.toISOString()})`, {
    retryAt,
    userMessage: `Pipedrive's request limit for this company is used up. Lookups resume at ${resumeTime(retryAt, now)}. ${USAGE_HINT}`,
  });
}

/** A refused refresh token not yet judged: a temporary error, worth retrying once the verdict is due. */
export function renewalChecking(verdictDueAt: Date, detail: string): AppError {
  return new AppError("renewal_checking", `${detail} (verdict due ${verdictDueAt.toISOString()})`, {
    retryAt: verdictDueAt,
  });
}

/** Stops that end on their own: the same call is worth repeating later (a CLI exits 75 for them). */
const TEMPORARY: readonly ErrorCode[] = ["renewal_checking", "rate_limited", "pipedrive_unavailable", "lookup_stopped"];
export const isTemporary = (code: ErrorCode): boolean => TEMPORARY.includes(code);

export function isAppError(error: unknown, code?: ErrorCode): error is AppError {
  return error instanceof AppError && (code === undefined || error.code === code);
}

/** Anything thrown, as the AppError a user may see; unknown errors become `internal`. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (isBusy(error))
    return new AppError("busy", describe(error), { cause: error, retryAt: new Date(Date.now() + BUSY_RETRY_MS) });
  return new AppError("internal", describe(error), { cause: error });
}

/** How long a caller told the CRM is busy is asked to wait (Retry-After). */
export const BUSY_RETRY_MS = 5_000;

// PostgreSQL's codes for "too many now", not "wrong": no connection slot, a statement or lock
// wait cut short, the server starting or stopping, a connection lost.
const BUSY_SQLSTATES = new Set([
  "53300",
  "53400",
  "57014",
  "55P03",
  "57P03",
  "57P01",
  "08000",
  "08001",
  "08003",
  "08006",
]);
// Prisma's: a transaction's connection not had in time (P2028), its pool timed out (P2024),
// the server unreachable (P1001) or closed (P1017).
const BUSY_PRISMA = new Set(["P2028", "P2024", "P1001", "P1017"]);

/**
 * The database could not take the work now (the pool stayed full for its wait, a statement hit
 * its timeout, the server refused or dropped connections): the work was not done, and may be
 * tried again in a moment. Looks through causes, as Prisma's adapter wraps the driver's error.
 */
export function isBusy(error: unknown): boolean {
  // Prisma 7 keeps a failed query's driver error in meta.driverAdapterError, whose cause has the
  // SQLSTATE as originalCode (P2039 "Database error"); pg and other wrappers use cause.
  const seen: unknown[] = [error];
  for (let i = 0; i < seen.length && i < 10; i++) {
    const e = seen[i];
    if (!e || typeof e !== "object") continue;
    const { code, originalCode, message, cause, meta } = e as {
      code?: unknown;
      originalCode?: unknown;
      message?: unknown;
      cause?: unknown;
      meta?: { driverAdapterError?: unknown };
    };
    for (const c of [code, originalCode])
      if (typeof c === "string" && (BUSY_SQLSTATES.has(c) || BUSY_PRISMA.has(c))) return true;
    if (typeof message === "string" && /timeout exceeded when trying to connect|Connection terminated/i.test(message))
      return true;
    seen.push(cause, meta?.driverAdapterError);
  }
  return false;
}

/** A log-safe one-liner for any thrown value. */
export function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
