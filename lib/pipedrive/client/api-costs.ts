// What each call we make costs from the company's daily Pipedrive budget, in Pipedrive's API
// tokens. Source: Pipedrive's "Rate limiting" documentation (token-based limits, 2024 onwards),
// as summarised in docs/pipedrive-api.md: a single get costs 2 in v1, a search 40 in v1, and v2
// endpoints about half (a v2 search ≈ 20). The budget is 30,000 × plan multiplier × seats per
// company per day, shared with every other integration of that company; OAuth token calls are
// not priced in the docs and are left out. Keep this the one place these numbers live.

export const API_TOKEN_COSTS = {
  /** GET /api/v1/users/me: a v1 single get. */
  usersMe: 2,
  /** GET /api/v2/persons/search: one page of one term. */
  personSearch: 20,
  /** GET /api/v1/personFields: a v1 list, asked once a day per company (custom phone fields). */
  personFields: 20,
} as const;

export type PricedCall = keyof typeof API_TOKEN_COSTS;

/**
 * The least a company's daily budget can be: 30,000 × the lowest plan multiplier (Lite, 1) × one
 * seat. Pipedrive tells apps neither the plan nor the budget left, so this floor is what is known.
 */
export const DAILY_BUDGET_FLOOR = 30_000;

/** Pipedrive's own page on its limits and what each call costs (docs/pipedrive-api.md). */
export const RATE_LIMITS_DOC = "https://pipedrive.readme.io/docs/core-api-concepts-rate-limiting";
