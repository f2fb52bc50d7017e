import type { ServerResponse } from "node:http";

import type { MockState } from "./state.ts";

// Pipedrive's rate limits. Strict profile: a per-token burst window (lower for search) and a
// daily budget for the company, with x-ratelimit-* headers on every answer. Any profile: the
// searchRateLimit fault, a shared window that answers 429 with Retry-After.

const BURST = { windowMs: 2_000, general: 80, search: 10 };

/** The headers an answer carries, or null once the 429 was sent. */
export function rateLimit(
  state: MockState,
  res: ServerResponse,
  accessToken: string,
  search: boolean,
): Record<string, string> | null {
  const s = state.s;
  if (s.behaviour.profile !== "strict") return search ? searchFault(state, res) : {};
  const now = Date.now();
  const day = new Date(now).toISOString().slice(0, 10);
  if (s.budget.day !== day) s.budget = { day, used: 0 };
  const untilMidnight = Math.ceil((Date.parse(`${day}T00:00:00Z`) + 86_400_000 - now) / 1000);
  if (s.budget.used >= s.behaviour.dailyBudget) {
    res.writeHead(429, {
      "Content-Type": "application/json",
      "Retry-After": String(Math.min(3600, untilMidnight)),
      "x-daily-requests-left": "0",
    });
    res.end(JSON.stringify({ success: false, error: "Daily request budget exceeded", errorCode: 429 }));
    return null;
  }
  let window = s.burst.get(accessToken);
  if (!window || now - window.start >= BURST.windowMs)
    s.burst.set(accessToken, (window = { start: now, general: 0, search: 0 }));
  window.general += 1;
  if (search) window.search += 1;
  const limit = search ? BURST.search : BURST.general;
  const used = search ? window.search : window.general;
  const reset = Math.max(1, Math.ceil((window.start + BURST.windowMs - now) / 1000));
  const headers = {
    "x-ratelimit-limit": String(limit),
    "x-ratelimit-remaining": String(Math.max(0, limit - used)),
    "x-ratelimit-reset": String(reset),
    "x-daily-requests-left": String(s.behaviour.dailyBudget - s.budget.used - 1),
  };
  if (used > limit) {
    res.writeHead(429, { ...headers, "Retry-After": String(reset), "Content-Type": "application/json" });
    res.end(JSON.stringify({ success: false, error: "Request over limit", errorCode: 429 }));
    return null;
  }
  s.budget.used += 1;
  return search && !searchFault(state, res) ? null : headers;
}

function searchFault(state: MockState, res: ServerResponse): Record<string, string> | null {
  const limit = state.s.faults.searchRateLimit;
  if (!limit) return {};
  const now = Date.now();
  const window = state.s.searchWindow;
  if (now - window.start >= limit.windowMs) state.s.searchWindow = { start: now, count: 0 };
  state.s.searchWindow.count += 1;
  const count = state.s.searchWindow.count;
  const resetSeconds = Math.max(0, Math.ceil((state.s.searchWindow.start + limit.windowMs - now) / 1000));
  const headers = {
    "x-ratelimit-limit": String(limit.limit),
    "x-ratelimit-remaining": String(Math.max(0, limit.limit - count)),
    "x-ratelimit-reset": String(resetSeconds),
  };
  if (count > limit.limit) {
    res.writeHead(429, {
      ...headers,
      ...(limit.retryAfterSeconds === null ? {} : { "Retry-After": String(limit.retryAfterSeconds) }),
      "Content-Type": "application/json",
    });
    const error = limit.daily ? "Daily request budget exceeded" : "Too many requests";
    res.end(JSON.stringify({ success: false, error, errorCode: 429 }));
    return null;
  }
  // Only the 429 carries this window's headers: the fault stages a 429 a client did not see coming.
  return {};
}
