import pino, { type DestinationStream, type Logger } from "pino";

import { env } from "./env.ts";
import { isRequestId } from "./http/request-id.ts";

// Structured logs: JSON lines in production, readable in development. Whatever a log call is
// given, these keys are redacted by configuration: tokens, codes, states, credentials.

const SECRET_KEYS = [
  "access_token",
  "refresh_token",
  "accessToken",
  "refreshToken",
  "code",
  "state",
  "code_verifier",
  "password",
  "client_secret",
  "clientSecret",
  "authorization",
  "cookie",
  "token",
];

export const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((key) => `*.${key}`),
  ...SECRET_KEYS.map((key) => `*.*.${key}`),
];

export function createLogger(options: { level: string; pretty: boolean }, destination?: DestinationStream): Logger {
  const config = {
    level: options.level,
    base: { service: "crm-pipedrive" },
    redact: { paths: REDACT_PATHS, censor: "[Redacted]" },
  };
  if (destination) return pino(config, destination);
  // A worker-thread transport: pino-pretty is a development dependency, loaded only here.
  return options.pretty
    ? pino({
        ...config,
        transport: { target: "pino-pretty", options: { colorize: true, ignore: "pid,hostname,service" } },
      })
    : pino(config);
}

let root: Logger | undefined;

export function log(): Logger {
  if (!root) {
    const e = env();
    root = createLogger({
      level: e.LOG_LEVEL ?? (e.NODE_ENV === "test" ? "silent" : "info"),
      pretty: e.NODE_ENV === "development",
    });
  }
  return root;
}

const requestIds = new WeakMap<Request, string>();

/**
 * A logger for one request, carrying its id: the one proxy.ts put on a page request, a
 * well-formed one from the proxy in front, or one made here (the same for the whole request).
 */
export function requestLog(request: Request, fields: Record<string, unknown> = {}): Logger {
  const given = request.headers.get("x-request-id");
  let id = isRequestId(given) ? given : requestIds.get(request);
  if (!id) requestIds.set(request, (id = crypto.randomUUID()));
  return log().child({ requestId: id, ...fields });
}
