import { type Fetch, PipedriveError, readJson, retryAfterMs, send, type Sleep, backoffMs } from "./http.ts";
import { type Person, type PipedriveMe, personSearchAnswer, usersMeAnswer } from "./schemas.ts";

export type ApiClientOptions = {
  fetch: Fetch;
  timeoutMs: number;
  sleep: Sleep;
  /** 429s retried before giving up with rate_limited. */
  maxRateLimitRetries: number;
  /** Never wait longer than this for one 429, whatever Retry-After says. */
  maxRateLimitWaitMs: number;
  random?: () => number;
};

export type ApiClient = ReturnType<typeof createApiClient>;

export type ApiCallStats = { rateLimitRetries: number };

export function createApiClient(options: ApiClientOptions) {
  const random = options.random ?? Math.random;
  // After a 429, every call to that Pipedrive host waits out the window instead of piling in:
  // the limit is per company, shared by all our callers, so one 429 speaks for all of them.
  const blockedUntil = new Map<string, number>();

  async function get(url: string, accessToken: string, what: string, stats?: ApiCallStats): Promise<Response> {
    const host = new URL(url).host;
    for (let attempt = 0; ; attempt++) {
      const wait = (blockedUntil.get(host) ?? 0) - Date.now();
      if (wait > 0) await options.sleep(Math.min(options.maxRateLimitWaitMs, wait + backoffMs(0, 250, 250, random)));
      const response = await send(
        options.fetch,
        url,
        { headers: { Authorization: `Bearer ${accessToken}`, Accept: "application/json" } },
        options.timeoutMs,
        what,
      );
      if (response.ok) return response;
      const status = response.status;
      await response.body?.cancel();
      if (status === 429) {
        const hinted = retryAfterMs(response.headers);
        if (attempt >= options.maxRateLimitRetries) {
          throw new PipedriveError("rate_limited", `${what}: HTTP 429 after ${attempt} retries`, { status, retryAfterMs: hinted });
        }
        // Wait what Pipedrive asks, plus jitter so parallel callers spread out.
        blockedUntil.set(host, Math.max(blockedUntil.get(host) ?? 0, Date.now() + (hinted ?? 1000)));
        if (stats) stats.rateLimitRetries++;
        await options.sleep(Math.min(options.maxRateLimitWaitMs, (hinted ?? 1000) + backoffMs(attempt, 250, 2000, random)));
        continue;
      }
      if (status === 401) throw new PipedriveError("unauthorized", `${what}: HTTP 401`, { status });
      if (status >= 500) throw new PipedriveError("unavailable", `${what}: HTTP ${status}`, { status });
      throw new PipedriveError("rejected", `${what}: HTTP ${status}`, { status });
    }
  }

  return {
    async me(baseUrl: string, accessToken: string): Promise<PipedriveMe> {
      const response = await get(`${baseUrl}/api/v1/users/me`, accessToken, "users/me");
      return (await readJson(response, usersMeAnswer, "users/me")).data;
    },

    async searchPersonsByPhoneTerm(baseUrl: string, accessToken: string, term: string, stats?: ApiCallStats): Promise<Person[]> {
      const url = new URL(`${baseUrl}/api/v2/persons/search`);
      url.searchParams.set("term", term);
      url.searchParams.set("fields", "phone");
      url.searchParams.set("exact_match", "true");
      url.searchParams.set("limit", "50");
      const response = await get(url.toString(), accessToken, "persons/search", stats);
      const answer = await readJson(response, personSearchAnswer, "persons/search");
      return answer.data.items.map(({ item }) => item);
    },
  };
}
