import type { z } from "zod";

import { AppError, rateLimitedUntil } from "../../errors.ts";
import { readUpTo } from "../../http/body.ts";
import { count } from "../../metrics/metric-store.ts";

export type Fetch = typeof fetch;

export type PipedriveFailure =
  | "unavailable" // network error, timeout, 5xx: worth retrying
  | "invalid_grant" // the code or refresh token is dead: only a reconnect helps
  | "invalid_client" // our own client id or secret is wrong or was rotated: never the tenant's fault
  | "unauthorized" // 401 from the API
  | "payment_required" // 402: the company's subscription is not active
  | "forbidden" // 403: the user lacks a permission (or the grant a scope)
  | "rate_limited"
  | "rejected" // any other 4xx
  | "malformed"; // 2xx we cannot use

/** A failed call to Pipedrive. The message never holds a token or a response body. */
export class PipedriveError extends Error {
  constructor(
    readonly kind: PipedriveFailure,
    message: string,
    /** short: a burst limit (seconds), not a spent daily budget. */
    readonly details: {
      status?: number;
      retryAfterMs?: number;
      short?: boolean;
      timedOut?: boolean;
      /** The call Pipedrive refused ("persons/search"): a 403 on one endpoint says nothing of another. */
      call?: string;
      /** Not Pipedrive's doing: the caller's deadline passed (see Patience). */
      deadline?: boolean;
    } = {},
  ) {
    super(message);
    this.name = "PipedriveError";
  }
}

export function isPipedriveError(error: unknown, kind?: PipedriveFailure): error is PipedriveError {
  return error instanceof PipedriveError && (kind === undefined || error.kind === kind);
}

/** Pipedrive's client authentication: HTTP Basic with the app's id and secret. */
export function basicAuth(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString("base64")}`;
}

/**
 * fetch with a timeout for the answer to begin and another for its body to be read; network
 * failures and timeouts become `unavailable`.
 */
export async function send(fetchImpl: Fetch, url: string, init: RequestInit, timeoutMs: number, what: string) {
  const controller = new AbortController();
  const abortAfter = () => {
    const timer = setTimeout(() => controller.abort(new DOMException("timed out", "TimeoutError")), timeoutMs);
    timer.unref();
    return timer;
  };
  const waiting = abortAfter();
  try {
    const response = await fetchImpl(url, { ...init, redirect: "error", signal: controller.signal });
    // The answer has begun: reading its body gets a bound of its own. A loaded machine runs an
    // expired timer before it reads the body that came with the headers, and a token answer
    // lost that way is a code spent for nothing.
    abortAfter();
    count("pipedrive_answers_total", `${Math.floor(response.status / 100)}xx`);
    return response;
  } catch (error) {
    const late = timedOut(error);
    count("pipedrive_answers_total", late ? "timeout" : "network_error");
    throw new PipedriveError("unavailable", `${what}: ${late ? `no answer within ${timeoutMs} ms` : "network error"}`, {
      timedOut: late,
    });
  } finally {
    clearTimeout(waiting);
  }
}

const timedOut = (error: unknown) =>
  error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");

/**
 * The body as text, read as a stream and never past `maxBytes`: an answer larger than any its
 * endpoint sends is `malformed`, and the rest of it is never read.
 */
export async function readText(response: Response, what: string, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? 0);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw new PipedriveError("malformed", `${what}: answer of ${declared} bytes, more than the ${maxBytes} expected`);
  }
  const bytes = await readUpTo(response.body, maxBytes).catch((error: unknown) => {
    // send()'s timeout still runs while the body is read: an answer cut off by it is Pipedrive
    // not answering in time, as one before its headers is.
    if (!timedOut(error)) throw error;
    count("pipedrive_answers_total", "timeout");
    throw new PipedriveError("unavailable", `${what}: no whole answer within the timeout`, { timedOut: true });
  });
  if (bytes === null)
    throw new PipedriveError("malformed", `${what}: answer longer than the ${maxBytes} bytes expected`);
  return Buffer.from(bytes).toString("utf8");
}

/** The JSON body of a 2xx answer, at most `maxBytes` long; anything else is `malformed`. */
export async function readJsonBody(response: Response, what: string, maxBytes: number): Promise<unknown> {
  const text = await readText(response, what, maxBytes);
  try {
    return JSON.parse(text);
  } catch {
    throw new PipedriveError(
      "malformed",
      `${what}: answer is not JSON (${response.headers.get("content-type") ?? "no content-type"})`,
    );
  }
}

/** The fields a refused answer got wrong, by path only: values could be tokens. */
export function refusedFields(error: z.ZodError): string {
  return error.issues.map((issue) => issue.path.join(".") || "(root)").join(", ");
}

/** The JSON body of a 2xx answer, at most `maxBytes` long and validated; anything else is `malformed`. */
export async function readJson<T extends z.ZodType>(
  response: Response,
  schema: T,
  what: string,
  maxBytes: number,
): Promise<z.infer<T>> {
  const parsed = schema.safeParse(await readJsonBody(response, what, maxBytes));
  if (!parsed.success) {
    throw new PipedriveError("malformed", `${what}: unexpected answer (fields: ${refusedFields(parsed.error)})`);
  }
  return parsed.data;
}

/** No wait Pipedrive asks for is taken longer than a day: its daily budget resets within one. */
export const MAX_UPSTREAM_WAIT_MS = 24 * 60 * 60 * 1000;

const SECONDS = /^(\d+(\.\d*)?|\.\d+)(e\+?\d+)?$|^Infinity$/i;
const HTTP_DATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/**
 * A wait an upstream header asks for, in ms: seconds, or an HTTP date (Retry-After allows both),
 * at most MAX_UPSTREAM_WAIT_MS. Undefined for anything else: negative, hex, a date that is not one.
 */
export function upstreamWaitMs(value: string | null, now: number = Date.now()): number | undefined {
  const text = value?.trim() ?? "";
  if (SECONDS.test(text)) return Math.min(Number(text) * 1000, MAX_UPSTREAM_WAIT_MS);
  if (!HTTP_DATE.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.min(Math.max(at - now, 0), MAX_UPSTREAM_WAIT_MS);
}

/** Delay from Retry-After or x-ratelimit-reset, bounded (upstreamWaitMs). */
export function retryAfterMs(headers: Headers, now: number = Date.now()): number | undefined {
  for (const name of ["retry-after", "x-ratelimit-reset"]) {
    const wait = upstreamWaitMs(headers.get(name), now);
    if (wait !== undefined) return wait;
  }
  return undefined;
}

export type Sleep = (ms: number) => Promise<void>;
export const sleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Full jitter: a random delay up to the exponential step, so callers do not retry in lockstep. */
export function backoffMs(attempt: number, baseMs: number, capMs: number, random = Math.random): number {
  return Math.round(random() * Math.min(capMs, baseMs * 2 ** attempt));
}

/** Pipedrive failures as the errors users see; anything else passes through. */
export function toAppErrorFromPipedrive(error: unknown, now: () => Date = () => new Date()): unknown {
  if (!(error instanceof PipedriveError)) return error;
  switch (error.kind) {
    case "rate_limited":
      if (error.details.short) {
        // How long Pipedrive asked for, and no line break inside "8 seconds".
        const seconds = Math.max(1, Math.ceil((error.details.retryAfterMs ?? 1000) / 1000));
        return new AppError("rate_limited", error.message, {
          cause: error,
          userMessage: `Pipedrive is busy and asked us to wait ${seconds}\u00a0${seconds === 1 ? "second" : "seconds"}. Try again then.`,
        });
      }
      return error.details.retryAfterMs === undefined
        ? new AppError("rate_limited", error.message, { cause: error })
        : rateLimitedUntil(new Date(now().getTime() + error.details.retryAfterMs), error.message, now());
    case "unavailable":
      return new AppError("pipedrive_unavailable", error.message, { cause: error });
    case "invalid_grant":
    case "unauthorized":
      return new AppError("needs_reconnect", error.message, { cause: error });
    case "invalid_client":
      return new AppError("app_credentials_rejected", error.message, { cause: error });
    case "payment_required":
      return new AppError("subscription_lapsed", error.message, { cause: error });
    case "forbidden":
      return new AppError("access_forbidden", error.message, { cause: error });
    default:
      return new AppError("pipedrive_rejected", error.message, { cause: error });
  }
}
