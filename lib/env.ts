import "server-only";

import { z } from "zod";

import { REFRESH_TOKEN_IDLE_DAYS } from "./pipedrive/connection/lifecycle.ts";
import { ROUTES } from "./routes.ts";

// The only module that reads process.env. Everything else asks env() for a typed object.

const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === "" ? undefined : value), schema.optional());

const httpUrl = z.url({ protocol: /^https?$/, normalize: true }).transform((url) => url.replace(/\/+$/, ""));

/** The one home of every default; the Pipedrive context built without the environment (tests, the bench) uses it too. */
export const DEFAULTS = {
  // Larger than the lead-enrichment service's 5 minutes: whenever we are active we renew first,
  // so it never needs to refresh and never races us.
  PIPEDRIVE_TOKEN_SKEW_SECONDS: 600,
  PIPEDRIVE_HTTP_TIMEOUT_MS: 10_000,
  LOOKUP_MAX_WAIT_SECONDS: 15,
  LOOKUP_DAILY_LIMIT: 200,
  PIPEDRIVE_VERDICT_GRACE_SECONDS: 60,
  OAUTH_STATE_TTL_SECONDS: 600,
  PIPEDRIVE_REQUIRED_SCOPES: "contacts:read",
  PHONE_DEFAULT_REGION: "BR",
  KEEPER_WINDOW_SECONDS: 900,
  KEEPER_IDLE_DAYS: 30,
  SERVICE_CALLS_PER_MINUTE: 1200,
  DB_POOL_SIZE: 10,
  DB_POOL_WAIT_MS: 5_000,
  DB_STATEMENT_TIMEOUT_MS: 15_000,
} as const;

const isLoopback = (host: string) => /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(host);

/** "a, b,,c" → ["a", "b", "c"]: a setting that lists several values. */
const commaList = (text: string) =>
  text
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);

/** Standard Webhooks secrets, "whsec_<base64 key of at least 24 bytes>", comma-separated. */
const webhookSecrets = z
  .string()
  .transform(commaList)
  .pipe(
    z
      .array(
        z
          .string()
          .refine(
            (secret) => /^whsec_[A-Za-z0-9+/]+=*$/.test(secret) && Buffer.from(secret.slice(6), "base64").length >= 24,
            "must be whsec_<base64>, of at least 24 bytes",
          ),
      )
      .min(1)
      .max(2),
  );

/** "enrichment=<key>,billing=<key>": one named key per service. */
const serviceKeys = z
  .string()
  .transform(commaList)
  .pipe(
    z.array(
      z
        .string()
        .regex(/^[a-z0-9_-]{1,40}=[\x21-\x7e]{32,200}$/, "must be name=key pairs, each key at least 32 characters")
        .transform((pair) => ({ name: pair.slice(0, pair.indexOf("=")), key: pair.slice(pair.indexOf("=") + 1) })),
    ),
  )
  .refine((keys) => new Set(keys.map((k) => k.name)).size === keys.length, "names each service once");

/** "billing=https://…,audit=https://…": subscribers to connection events beside EVENT_WEBHOOK_URL's. */
const eventSubscribers = z
  .string()
  .transform(commaList)
  .pipe(
    z.array(
      z
        .string()
        .regex(/^[a-z0-9_-]{1,40}=https?:\/\/\S+$/, "must be name=url pairs (names: a-z, 0-9, _ and -)")
        .transform((pair) => ({ name: pair.slice(0, pair.indexOf("=")), url: pair.slice(pair.indexOf("=") + 1) }))
        .refine((s) => URL.canParse(s.url), "must be name=url pairs with valid URLs")
        .refine((s) => s.name !== "default", 'must not name one "default": that is EVENT_WEBHOOK_URL\'s'),
    ),
  )
  .refine((list) => new Set(list.map((s) => s.name)).size === list.length, "names each subscriber once");

/** Where a named subscriber's signing secrets are: "billing" → EVENT_SECRET_BILLING. */
export const eventSecretVariable = (name: string) => `EVENT_SECRET_${name.toUpperCase().replace(/-/g, "_")}`;

const schema = z
  .preprocess(
    // A named subscriber's secrets each have a variable of their own, as secret stores hand them out.
    (source) => ({
      ...(source as Record<string, unknown>),
      EVENT_SECRETS: Object.fromEntries(
        Object.entries(source as Record<string, unknown>).filter(([name]) => name.startsWith("EVENT_SECRET_")),
      ),
    }),
    z.object({
      NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
      // Set by the launcher (npm run dev, DEMO=1 npm start) and nothing else: this process is the local demo.
      DEMO: optional(z.literal("1")),
      DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
      AUTH_SECRET: z.string().min(32, "must be at least 32 characters"),
      APP_URL: optional(httpUrl).default("http://localhost:3000"),
      PIPEDRIVE_CLIENT_ID: z.string().min(1),
      PIPEDRIVE_CLIENT_SECRET: z.string().min(1),
      PIPEDRIVE_OAUTH_BASE_URL: optional(httpUrl).default("https://oauth.pipedrive.com"),
      PIPEDRIVE_REDIRECT_URI: optional(httpUrl),
      // host:port of the local mock Pipedrive. Only then is an api_domain outside
      // *.pipedrive.com accepted, and only a loopback one, spoken to over plain http.
      PIPEDRIVE_MOCK_HOST: optional(z.string().refine(isLoopback, "must be a loopback host such as localhost:4010")),
      PIPEDRIVE_TOKEN_SKEW_SECONDS: optional(z.coerce.number().int().min(0).max(3000)).default(
        DEFAULTS.PIPEDRIVE_TOKEN_SKEW_SECONDS,
      ),
      PIPEDRIVE_HTTP_TIMEOUT_MS: optional(z.coerce.number().int().min(100).max(60_000)).default(
        DEFAULTS.PIPEDRIVE_HTTP_TIMEOUT_MS,
      ),
      // The most a person at the settings page waits for a lookup, every call included.
      LOOKUP_MAX_WAIT_SECONDS: optional(z.coerce.number().int().min(2).max(120)).default(
        DEFAULTS.LOOKUP_MAX_WAIT_SECONDS,
      ),
      // Page lookups per workspace per UTC day. A miss tries several ways of writing a number and
      // costs about 130 of the company's Pipedrive API tokens; 200 of them stay within the
      // smallest company's daily budget (docs/pipedrive-api.md).
      LOOKUP_DAILY_LIMIT: optional(z.coerce.number().int().min(1).max(1_000_000)).default(DEFAULTS.LOOKUP_DAILY_LIMIT),
      // A refused refresh token must still be the row's this long before admins are told the
      // connection needs a reconnect: another writer's rotation may be about to land.
      PIPEDRIVE_VERDICT_GRACE_SECONDS: optional(z.coerce.number().int().min(0).max(3600)).default(
        DEFAULTS.PIPEDRIVE_VERDICT_GRACE_SECONDS,
      ),
      // A session ends this long after its sign-in, however active: no endpoint extends it past that.
      SESSION_MAX_HOURS: optional(z.coerce.number().int().min(1).max(720)).default(12),
      OAUTH_STATE_TTL_SECONDS: optional(z.coerce.number().int().min(1).max(3600)).default(
        DEFAULTS.OAUTH_STATE_TTL_SECONDS,
      ),
      // PKCE (S256) on connect flows: a leaked code cannot be redeemed in another flow. Pipedrive
      // documents none; "off" is the documented way out if its authorize page ever refuses it.
      PIPEDRIVE_PKCE: optional(z.enum(["on", "off"])).default("on"),
      // The scopes lookups need, comma-separated: a grant without one of them waits for new permissions.
      PIPEDRIVE_REQUIRED_SCOPES: optional(
        z.string().regex(/^[a-z]+:[a-z]+(,[a-z]+:[a-z]+)*$/, "must be scopes like contacts:read,search:read"),
      ).default(DEFAULTS.PIPEDRIVE_REQUIRED_SCOPES),
      PHONE_DEFAULT_REGION: optional(z.string().regex(/^[A-Z]{2}$/, "must be a two-letter country code")).default(
        DEFAULTS.PHONE_DEFAULT_REGION,
      ),
      // The keeper renews every token this long before it expires: more than the lead-enrichment
      // service's 5 minutes and our own just-in-time skew, so neither ever needs to.
      KEEPER_WINDOW_SECONDS: optional(z.coerce.number().int().min(301).max(3000)).default(
        DEFAULTS.KEEPER_WINDOW_SECONDS,
      ),
      // Pipedrive drops a refresh token unused for REFRESH_TOKEN_IDLE_DAYS (60).
      KEEPER_IDLE_DAYS: optional(
        z.coerce
          .number()
          .int()
          .min(1)
          .max(REFRESH_TOKEN_IDLE_DAYS - 1),
      ).default(DEFAULTS.KEEPER_IDLE_DAYS),
      KEEPER_CONCURRENCY: optional(z.coerce.number().int().min(1).max(4)).default(4),
      // How many proxies in front of the app append to X-Forwarded-For (README, Security). With
      // none, rate limits key on the socket's address and the header is ignored.
      TRUSTED_PROXIES: optional(z.coerce.number().int().min(0).max(9)).default(0),
      // Set by scripts/server.ts in its own process: each request's client address is in a header it wrote.
      CLIENT_ADDRESS_FROM_SERVER: optional(z.literal("1")),
      // Where someone with no CRM account signs up, shown when a Marketplace install sends them to sign in.
      SIGN_UP_URL: optional(httpUrl),
      // Mail to workspace admins about their Pipedrive connection; off without SMTP_URL.
      SMTP_URL: optional(z.url({ protocol: /^smtps?$/ })),
      MAIL_FROM: optional(z.string().min(3).max(200)).default("CRM <crm@localhost>"),
      // Bearer token for /api/metrics; without it, metrics are open in demo mode (DEMO=1) only.
      METRICS_TOKEN: optional(z.string().min(16, "must be at least 16 characters")),
      // Keys of the services that take Pipedrive tokens and lookups from us, "name=key" pairs
      // separated by commas; each key at least 32 characters, each name said in the logs.
      SERVICE_API_KEYS: optional(serviceKeys).default([]),
      // Calls a minute each service (each key's name) may make to the token and lookup endpoints.
      SERVICE_CALLS_PER_MINUTE: optional(z.coerce.number().int().min(1).max(1_000_000)).default(
        DEFAULTS.SERVICE_CALLS_PER_MINUTE,
      ),
      // Where connection events go (Standard Webhooks), and the secrets they are signed with:
      // "whsec_<base64>", the current one first; during a rotation, both, comma-separated.
      EVENT_WEBHOOK_URL: optional(z.url({ protocol: /^https?$/ })),
      EVENT_WEBHOOK_SECRET: optional(webhookSecrets),
      EVENT_SUBSCRIBERS: optional(eventSubscribers).default([]),
      EVENT_SECRETS: z.record(z.string(), z.string()),
      // Who hears of what only whoever runs the CRM can fix (a subscriber failing for an hour).
      OPERATOR_EMAILS: optional(z.string().transform(commaList).pipe(z.array(z.email()).max(20))).default([]),
      // Database connections per process, and how long a request waits for one before it is told
      // the CRM is busy (503, Retry-After) instead of queueing without end (docs/operations.md).
      DB_POOL_SIZE: optional(z.coerce.number().int().min(2).max(100)).default(DEFAULTS.DB_POOL_SIZE),
      DB_POOL_WAIT_MS: optional(z.coerce.number().int().min(100).max(60_000)).default(DEFAULTS.DB_POOL_WAIT_MS),
      // The longest one statement may run (a stuck database, a lock held by a crashed writer).
      DB_STATEMENT_TIMEOUT_MS: optional(z.coerce.number().int().min(1_000).max(300_000)).default(
        DEFAULTS.DB_STATEMENT_TIMEOUT_MS,
      ),
      LOG_LEVEL: optional(z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])),
    }),
  )
  // The mock's host is allowed only where the mock also stands in for Pipedrive's OAuth server:
  // beside Pipedrive's own, it would let a stored loopback api_domain receive tokens over http.
  .refine((raw) => !raw.PIPEDRIVE_MOCK_HOST || isLoopback(new URL(raw.PIPEDRIVE_OAUTH_BASE_URL).host), {
    path: ["PIPEDRIVE_MOCK_HOST"],
    message: "is allowed only beside a loopback PIPEDRIVE_OAUTH_BASE_URL (the local mock's), never in a deployment",
  })
  .refine((raw) => !raw.EVENT_WEBHOOK_URL || raw.EVENT_WEBHOOK_SECRET, {
    path: ["EVENT_WEBHOOK_SECRET"],
    message: "is needed beside EVENT_WEBHOOK_URL: every event is signed",
  })
  // Events name workspaces and their Pipedrive users: never over plain http, but to this machine.
  .refine((raw) => !raw.EVENT_WEBHOOK_URL?.startsWith("http:") || isLoopback(new URL(raw.EVENT_WEBHOOK_URL).host), {
    path: ["EVENT_WEBHOOK_URL"],
    message: "must be https (plain http only to this machine, for the demo's receiver)",
  })
  .superRefine((raw, ctx) => {
    // Runs beside a field's own issues: a subscriber that did not parse is already reported.
    for (const { name, url } of raw.EVENT_SUBSCRIBERS.filter((s) => typeof s?.name === "string")) {
      const variable = eventSecretVariable(name);
      if (!webhookSecrets.safeParse(raw.EVENT_SECRETS[variable] ?? "").success)
        ctx.addIssue({
          code: "custom",
          path: [variable],
          message: `must be whsec_<base64> (at least 24 bytes; two during a rotation): subscriber "${name}"'s events are signed with it`,
        });
      if (url.startsWith("http:") && !isLoopback(new URL(url).host))
        ctx.addIssue({
          code: "custom",
          path: ["EVENT_SUBSCRIBERS"],
          message: `"${name}" must be https (plain http only to this machine)`,
        });
    }
  })
  .refine((raw) => raw.KEEPER_WINDOW_SECONDS > raw.PIPEDRIVE_TOKEN_SKEW_SECONDS, {
    path: ["KEEPER_WINDOW_SECONDS"],
    message: "must be larger than PIPEDRIVE_TOKEN_SKEW_SECONDS",
  })
  .transform(({ EVENT_SECRETS, ...raw }) => ({
    ...raw,
    /** Everyone told of connection events: EVENT_WEBHOOK_URL as "default", then EVENT_SUBSCRIBERS. */
    eventSubscribers: [
      ...(raw.EVENT_WEBHOOK_URL && raw.EVENT_WEBHOOK_SECRET
        ? [{ name: "default", url: raw.EVENT_WEBHOOK_URL, secrets: raw.EVENT_WEBHOOK_SECRET }]
        : []),
      ...raw.EVENT_SUBSCRIBERS.map((s) => ({
        ...s,
        secrets: webhookSecrets.parse(EVENT_SECRETS[eventSecretVariable(s.name)]),
      })),
    ],
    PIPEDRIVE_REDIRECT_URI: raw.PIPEDRIVE_REDIRECT_URI ?? `${raw.APP_URL}${ROUTES.callback}`,
    secureCookies: raw.APP_URL.startsWith("https://"),
  }));

export type Env = z.infer<typeof schema>;
export type ServiceKey = { name: string; key: string };

export class ConfigError extends Error {
  constructor(
    readonly variables: string[],
    message: string,
  ) {
    super(message);
    this.name = "ConfigError";
  }
}

export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = schema.safeParse(source);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? "environment");
    const missing = source[name] === undefined || source[name] === "";
    return { name, text: `${name}: ${missing ? "is not set" : issue.message}` };
  });
  throw new ConfigError(
    [...new Set(problems.map((p) => p.name))],
    `Invalid configuration (see README, "Configuration"):\n${problems.map((p) => `  - ${p.text}`).join("\n")}`,
  );
}

let cached: Env | undefined;

export function env(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}
