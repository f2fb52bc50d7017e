import { count } from "../../metrics/metric-store.ts";
import type { PricedCall } from "./api-costs.ts";
import {
  backoffMs,
  PipedriveError,
  readJson,
  readText,
  retryAfterMs,
  send,
  upstreamWaitMs,
  type Fetch,
  type Sleep,
} from "./http.ts";
import { personFieldsAnswer, personSearchAnswer, usersMeAnswer, type Person, type PipedriveMe } from "./schemas.ts";

export type ApiClientOptions = {
  fetch: Fetch;
  timeoutMs: number;
  sleep: Sleep;
  /** 429s retried before giving up with rate_limited. */
  maxRateLimitRetries: number;
  /** The longest wait we accept; a 429 asking for more (a spent daily budget) fails at once. */
  maxRateLimitWaitMs: number;
  random?: () => number;
  now?: () => number;
  /**
   * Told of every call Pipedrive answered, with its host and kind: what it costs is the caller's
   * to count (the context keeps the company's daily usage), not the client's.
   */
  onCall?: (apiHost: string, call: PricedCall) => void;
};

export type ApiClient = ReturnType<typeof createApiClient>;

export type ApiCallStats = { calls: number; rateLimitRetries: number; slowdowns: number };

/**
 * How long a caller waits out Pipedrive's burst limits: its whole wait, and its retries.
 * `deadline` (epoch ms): no call starts, and none is awaited, past it; a person waiting at the
 * page has one, a batch caller does not.
 */
export type Patience = { maxWaitMs: number; maxRetries: number; deadline?: number };

export const newStats = (): ApiCallStats => ({ calls: 0, rateLimitRetries: 0, slowdowns: 0 });

/** What a caller adds to a call: its count of calls, and how long it waits out limits. */
export type CallOptions = { stats?: ApiCallStats; patience?: Partial<Patience> };

/** Results per page we ask for: Pipedrive's maximum, so a term rarely needs a second page. */
const PAGE_SIZE = 500;

/**
 * The most we read of an answer, per endpoint: generous for what Pipedrive sends (a users/me
 * answer is about 2 KB; a full search page of 500 people about 250 KB), far below what would
 * hurt the server. Larger answers are refused unread.
 */
/** A 429 asking for longer than this is a spent daily budget, not a burst limit. */
const SHORT_LIMIT_MS = 60_000;
/** What integrators see in the body of the daily budget's 429 (its headers are undocumented). */
const DAILY_BUDGET_SPENT = /daily request budget/i;
/** A spent daily budget with no usable Retry-After: look again in an hour (Pipedrive resets at its midnight). */
const DAILY_BUDGET_RECHECK_MS = 60 * 60_000;
const MAX_LIMIT_BODY_BYTES = 4096;

export const MAX_ANSWER_BYTES = { me: 64 * 1024, searchPage: 2 * 1024 * 1024 };

export function createApiClient(options: ApiClientOptions) {
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  // Calls to one Pipedrive host (one company) wait while its window is spent: after a 429, and
  // before one, when the rate-limit headers say nothing is left. One caller's 429 speaks for all.
  const blockedUntil = new Map<string, number>();

  /**
   * Holds this process's calls to `host` for a burst window at most: anything longer is a company
   * pause, which is recorded where every process, the page and the view see it.
   */
  function block(host: string, ms: number, why: "window_spent" | "burst_429") {
    blockedUntil.set(host, Math.max(blockedUntil.get(host) ?? 0, now() + Math.min(ms, SHORT_LIMIT_MS)));
    count("pipedrive_api_waits_total", why);
  }

  async function get(
    url: string,
    accessToken: string,
    what: string,
    { stats, patience: given = {} }: CallOptions = {},
  ): Promise<Response> {
    // What the caller leaves out is the client's own: a person's few seconds, no deadline.
    const patience = { maxWaitMs: options.maxRateLimitWaitMs, maxRetries: options.maxRateLimitRetries, ...given };
    const host = new URL(url).host;
    let waited = 0;
    const pastDeadline = () => {
      if (patience.deadline !== undefined && now() >= patience.deadline)
        throw new PipedriveError("unavailable", `${what}: the caller's deadline passed`, { deadline: true });
    };
    for (let attempt = 0; ; attempt++) {
      pastDeadline();
      const wait = (blockedUntil.get(host) ?? 0) - now();
      if (wait > 0) {
        // Within what is left of the caller's wait budget; past it, the next answer decides.
        const pause = Math.min(patience.maxWaitMs - waited, wait + backoffMs(0, 100, 100, random));
        if (pause > 0) {
          waited += pause;
          await options.sleep(pause);
        }
      }
      pastDeadline();
      if (stats) stats.calls++;
      const timeoutMs =
        patience.deadline === undefined ? options.timeoutMs : Math.min(options.timeoutMs, patience.deadline - now());
      const response = await send(
        options.fetch,
        url,
        { headers: { Authorization: `Bearer ${accessToken}`, Accept: "application/json" } },
        timeoutMs,
        what,
      ).catch((error: unknown) => {
        pastDeadline();
        throw error;
      });
      const remaining = Number(response.headers.get("x-ratelimit-remaining") ?? Number.NaN);
      const reset = upstreamWaitMs(response.headers.get("x-ratelimit-reset")) ?? 0;
      if (response.ok) {
        // Nothing left in this window: wait it out before the next call instead of earning a 429.
        if (remaining === 0 && reset > 0) {
          block(host, reset, "window_spent");
          if (stats) stats.slowdowns++;
        }
        return response;
      }
      const status = response.status;
      // A 429's body is the one sign of a spent daily budget whose headers say little or nothing.
      const body = status === 429 ? await readText(response, what, MAX_LIMIT_BODY_BYTES).catch(() => "") : "";
      await response.body?.cancel().catch(() => {});
      if (status === 429) {
        const given = retryAfterMs(response.headers);
        const hinted = DAILY_BUDGET_SPENT.test(body) ? Math.max(given ?? 0, DAILY_BUDGET_RECHECK_MS) : (given ?? 1000);
        if (hinted > SHORT_LIMIT_MS) {
          // A spent daily budget: nobody should wait an hour for a lookup.
          throw new PipedriveError("rate_limited", `${what}: HTTP 429, limited for ${Math.round(hinted / 1000)} s`, {
            status,
            retryAfterMs: hinted,
          });
        }
        block(host, hinted, "burst_429");
        // Wait what Pipedrive asks, plus jitter so parallel callers spread out: a burst limit is
        // waited out only while the caller's whole wait stays within the budget.
        const pause = hinted + backoffMs(attempt, 250, 2000, random);
        const pastBound = patience.deadline !== undefined && now() + pause > patience.deadline;
        if (attempt >= patience.maxRetries || waited + pause > patience.maxWaitMs || pastBound) {
          throw new PipedriveError(
            "rate_limited",
            `${what}: HTTP 429 for ${hinted} ms, after ${waited} ms of waiting`,
            {
              status,
              retryAfterMs: hinted,
              short: true,
            },
          );
        }
        if (stats) stats.rateLimitRetries++;
        waited += pause;
        await options.sleep(pause);
        continue;
      }
      if (status === 401) throw new PipedriveError("unauthorized", `${what}: HTTP 401`, { status });
      if (status === 402) throw new PipedriveError("payment_required", `${what}: HTTP 402`, { status, call: what });
      if (status === 403) throw new PipedriveError("forbidden", `${what}: HTTP 403`, { status, call: what });
      if (status >= 500) throw new PipedriveError("unavailable", `${what}: HTTP ${status}`, { status });
      throw new PipedriveError("rejected", `${what}: HTTP ${status}`, { status });
    }
  }

  return {
    async me(baseUrl: string, accessToken: string): Promise<PipedriveMe> {
      const response = await get(`${baseUrl}/api/v1/users/me`, accessToken, "users/me");
      options.onCall?.(new URL(baseUrl).host, "usersMe");
      return (await readJson(response, usersMeAnswer, "users/me", MAX_ANSWER_BYTES.me)).data;
    },

    /** Whether the company has person fields of type phone beyond the standard one (custom fields). */
    /** The names of the company's custom phone fields (none: an empty list). */
    async customPhoneFieldNames(baseUrl: string, accessToken: string, patience?: Partial<Patience>): Promise<string[]> {
      const response = await get(`${baseUrl}/api/v1/personFields`, accessToken, "personFields", { patience });
      options.onCall?.(new URL(baseUrl).host, "personFields");
      const answer = await readJson(response, personFieldsAnswer, "personFields", MAX_ANSWER_BYTES.searchPage);
      return answer.data
        .filter((field) => field.field_type === "phone" && field.key !== "phone")
        .map((field) => field.name || "Custom phone field")
        .slice(0, 10);
    },

    /**
     * One page of people whose phone matches `term` exactly; with `customFields`, in the
     * company's custom phone fields too (Pipedrive searches those only when asked).
     */
    async searchPersonsByPhoneTerm(
      baseUrl: string,
      accessToken: string,
      term: string,
      {
        cursor = null,
        customFields = false,
        stats,
        patience,
      }: CallOptions & { cursor?: string | null; customFields?: boolean } = {},
    ): Promise<{ people: Person[]; nextCursor: string | null }> {
      const url = new URL(`${baseUrl}/api/v2/persons/search`);
      url.searchParams.set("term", term);
      url.searchParams.set("fields", customFields ? "phone,custom_fields" : "phone");
      url.searchParams.set("exact_match", "true");
      url.searchParams.set("limit", String(PAGE_SIZE));
      if (cursor) url.searchParams.set("cursor", cursor);
      const response = await get(url.toString(), accessToken, "persons/search", { stats, patience });
      options.onCall?.(url.host, "personSearch");
      const answer = await readJson(response, personSearchAnswer, "persons/search", MAX_ANSWER_BYTES.searchPage);
      return {
        people: answer.data.items.map(({ item }) => item),
        nextCursor: answer.additional_data?.next_cursor ?? null,
      };
    },
  };
}
