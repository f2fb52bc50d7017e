import "server-only";

import { sql } from "../db.ts";
import { log } from "../log.ts";
import { API_TOKEN_COSTS, type PricedCall } from "./api-costs.ts";

// Estimated Pipedrive budget spent per company (API host) and UTC day, and what we learnt about
// each company's phone search. Recording never fails or slows the call it records.

const utcDay = (now: Date) => now.toISOString().slice(0, 10);

/** Adds to today's counts for the company; never throws or waits. */
function record(apiHost: string, now: Date, add: { lookups?: number; searches?: number; apiTokens?: number }): void {
  try {
    sql()
      .query(
        `INSERT INTO pipedrive_api_usage (api_host, day, lookups, searches, api_tokens) VALUES ($1, $2::date, $3, $4, $5)
         ON CONFLICT (api_host, day) DO UPDATE SET lookups = pipedrive_api_usage.lookups + EXCLUDED.lookups,
           searches = pipedrive_api_usage.searches + EXCLUDED.searches,
           api_tokens = pipedrive_api_usage.api_tokens + EXCLUDED.api_tokens`,
        [apiHost, utcDay(now), add.lookups ?? 0, add.searches ?? 0, add.apiTokens ?? 0],
      )
      .catch((error: unknown) => log().debug({ error: String(error) }, "api usage not recorded"));
  } catch {
    // No database here (a unit test): nothing to record.
  }
}

/** One answered call, at its documented cost. */
export function recordCall(apiHost: string, call: PricedCall, now: Date): void {
  record(apiHost, now, { searches: call === "personSearch" ? 1 : 0, apiTokens: API_TOKEN_COSTS[call] });
}

/** One lookup that reached Pipedrive (its searches are recorded one by one). */
export function recordLookup(apiHost: string, now: Date): void {
  record(apiHost, now, { lookups: 1 });
}

export type UsageToday = { lookups: number; searches: number; apiTokens: number };

export async function usageToday(apiHost: string, now: Date): Promise<UsageToday> {
  const { rows } = await sql().query<{ lookups: number; searches: number; api_tokens: number }>(
    `SELECT lookups, searches, api_tokens FROM pipedrive_api_usage WHERE api_host = $1 AND day = $2::date`,
    [apiHost, utcDay(now)],
  );
  const row = rows[0];
  return { lookups: row?.lookups ?? 0, searches: row?.searches ?? 0, apiTokens: row?.api_tokens ?? 0 };
}

/** Every company's estimated tokens today, for the metrics. */
export async function tokensTodayByHost(now: Date): Promise<{ apiHost: string; apiTokens: number }[]> {
  const { rows } = await sql().query<{ api_host: string; api_tokens: number }>(
    `SELECT api_host, api_tokens FROM pipedrive_api_usage WHERE day = $1::date`,
    [utcDay(now)],
  );
  return rows.map((r) => ({ apiHost: r.api_host, apiTokens: r.api_tokens }));
}

export type PhoneMatch = "digits" | "unknown";

export async function phoneMatchOf(apiHost: string): Promise<PhoneMatch> {
  const { rows } = await sql().query<{ phone_match: string }>(
    `SELECT phone_match FROM pipedrive_companies WHERE api_host = $1`,
    [apiHost],
  );
  return rows[0]?.phone_match === "digits" ? "digits" : "unknown";
}

/** Seen: a search found a phone stored with other punctuation than the term had. */
export async function learnDigitsMatch(apiHost: string, now: Date): Promise<void> {
  await sql().query(
    `INSERT INTO pipedrive_companies (api_host, phone_match, learned_at) VALUES ($1, 'digits', $2)
     ON CONFLICT (api_host) DO UPDATE SET phone_match = 'digits', learned_at = EXCLUDED.learned_at`,
    [apiHost, now],
  );
}
