import "server-only";

import { sql } from "../../db.ts";
import { writeBehind } from "../../write-behind.ts";
import { API_TOKEN_COSTS, type PricedCall } from "../client/api-costs.ts";

// Estimated Pipedrive budget spent per company (API host) and UTC day, and what we learnt about
// each company's phone search. Recording never fails or slows the call it records.

const utcDay = (now: Date) => now.toISOString().slice(0, 10);

type Usage = { lookups: number; searches: number; apiTokens: number };

const usage = writeBehind<Usage>({
  name: "api usage",
  merge: (a, b) => ({
    lookups: a.lookups + b.lookups,
    searches: a.searches + b.searches,
    apiTokens: a.apiTokens + b.apiTokens,
  }),
  write: (batch) =>
    sql().query(
      `INSERT INTO pipedrive_api_usage (api_host, day, lookups, searches, api_tokens)
       SELECT * FROM unnest($1::text[], $2::date[], $3::int[], $4::int[], $5::int[])
       ON CONFLICT (api_host, day) DO UPDATE SET lookups = pipedrive_api_usage.lookups + EXCLUDED.lookups,
         searches = pipedrive_api_usage.searches + EXCLUDED.searches,
         api_tokens = pipedrive_api_usage.api_tokens + EXCLUDED.api_tokens`,
      [
        batch.map(([key]) => key.split(" ")[0]),
        batch.map(([key]) => key.split(" ")[1]),
        batch.map(([, u]) => u.lookups),
        batch.map(([, u]) => u.searches),
        batch.map(([, u]) => u.apiTokens),
      ],
    ),
});

/** Adds to today's counts for the company, written within a second; never throws or waits. */
function record(apiHost: string, now: Date, add: Partial<Usage>): void {
  usage.add(`${apiHost} ${utcDay(now)}`, {
    lookups: add.lookups ?? 0,
    searches: add.searches ?? 0,
    apiTokens: add.apiTokens ?? 0,
  });
}

/** Writes this process's recorded usage now (the page, tests, and a graceful stop). */
export function usageWritten(): Promise<void> {
  return usage.flush();
}

/** One answered call, at its documented cost. */
export function recordCall(apiHost: string, call: PricedCall, now: Date): void {
  record(apiHost, now, { searches: call === "personSearch" ? 1 : 0, apiTokens: API_TOKEN_COSTS[call] });
}

/** One lookup that reached Pipedrive (its searches are recorded one by one). */
export function recordLookup(apiHost: string, now: Date): void {
  record(apiHost, now, { lookups: 1 });
}

export type UsageToday = Usage;

export async function usageToday(apiHost: string, now: Date): Promise<UsageToday> {
  await usage.flush();
  const { rows } = await sql().query<{ lookups: number; searches: number; api_tokens: number }>(
    `SELECT lookups, searches, api_tokens FROM pipedrive_api_usage WHERE api_host = $1 AND day = $2::date`,
    [apiHost, utcDay(now)],
  );
  const row = rows[0];
  return { lookups: row?.lookups ?? 0, searches: row?.searches ?? 0, apiTokens: row?.api_tokens ?? 0 };
}

/** All companies' estimated tokens today, and how many companies: no host, for the metrics. */
export async function tokensToday(now: Date): Promise<{ apiTokens: number; companies: number }> {
  const { rows } = await sql().query<{ api_tokens: number; companies: number }>(
    `SELECT coalesce(sum(api_tokens), 0)::int AS api_tokens, count(*)::int AS companies
       FROM pipedrive_api_usage WHERE day = $1::date`,
    [utcDay(now)],
  );
  return { apiTokens: rows[0]?.api_tokens ?? 0, companies: rows[0]?.companies ?? 0 };
}

export type PhoneMatch = "digits" | "unknown";

export async function phoneMatchOf(apiHost: string): Promise<PhoneMatch> {
  const { rows } = await sql().query<{ phone_match: string }>(
    `SELECT phone_match FROM pipedrive_companies WHERE api_host = $1`,
    [apiHost],
  );
  return rows[0]?.phone_match === "digits" ? "digits" : "unknown";
}

/** How long what a company's person fields say is trusted before it is asked again. */
export const FIELDS_FRESH_MS = 24 * 60 * 60_000;

export type CustomPhoneFields = { has: boolean; names: string[]; checkedAt: Date };

/** The company's custom phone fields (their names), and since when we know; null when not asked in the last day. */
export async function customPhoneFieldsOf(apiHost: string, now: Date): Promise<CustomPhoneFields | null> {
  const { rows } = await sql().query<{
    custom_phone_fields: boolean | null;
    custom_phone_field_names: string[] | null;
    fields_checked_at: Date;
  }>(
    `SELECT custom_phone_fields, custom_phone_field_names, fields_checked_at FROM pipedrive_companies
     WHERE api_host = $1 AND fields_checked_at > $2`,
    [apiHost, new Date(now.getTime() - FIELDS_FRESH_MS)],
  );
  const row = rows[0];
  return row && row.custom_phone_fields !== null
    ? { has: row.custom_phone_fields, names: row.custom_phone_field_names ?? [], checkedAt: row.fields_checked_at }
    : null;
}

export async function rememberCustomPhoneFields(apiHost: string, names: string[], now: Date): Promise<void> {
  await sql().query(
    `INSERT INTO pipedrive_companies (api_host, phone_match, learned_at, custom_phone_fields, custom_phone_field_names, fields_checked_at)
     VALUES ($1, 'unknown', $3, $2, $4, $3)
     ON CONFLICT (api_host) DO UPDATE SET custom_phone_fields = EXCLUDED.custom_phone_fields,
       custom_phone_field_names = EXCLUDED.custom_phone_field_names, fields_checked_at = EXCLUDED.fields_checked_at`,
    [apiHost, names.length > 0, now, names],
  );
}

/** Seen: a search found a phone stored with other punctuation than the term had. */
export async function learnDigitsMatch(apiHost: string, now: Date): Promise<void> {
  await sql().query(
    `INSERT INTO pipedrive_companies (api_host, phone_match, learned_at) VALUES ($1, 'digits', $2)
     ON CONFLICT (api_host) DO UPDATE SET phone_match = 'digits', learned_at = EXCLUDED.learned_at`,
    [apiHost, now],
  );
}
