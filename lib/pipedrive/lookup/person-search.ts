import { getCountryCallingCode, parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js";

import { AppError } from "../../errors.ts";
import type { ApiCallStats, Patience } from "../client/api-client.ts";
import { isPipedriveError } from "../client/http.ts";
import type { Person } from "../client/schemas.ts";
import { recordUse } from "../connection/connection-store.ts";
import type { PipedriveContext } from "../context.ts";
import { withAccessToken } from "../tokens/access.ts";
import {
  customPhoneFieldsOf,
  learnDigitsMatch,
  phoneMatchOf,
  recordLookup,
  rememberCustomPhoneFields,
  type CustomPhoneFields,
  type PhoneMatch,
} from "./usage-store.ts";

const PHONE_INPUT = /^[0-9+()\-.\s/]+$/;

/** Pages of one term's results we read at most (500 people a page). */
export const MAX_SEARCH_PAGES = 4;

/** "00 55 11 …", the international prefix most countries dial, is "+55 11 …". */
function withPlusPrefix(raw: string): string {
  return raw.replace(/^00\s*(?=[1-9])/, "+");
}

/**
 * The number as the lookup searched it, in international form: what the page shows on a miss,
 * so a number read in the wrong country is plain to see. The input itself when it cannot be read.
 */
export function searchedAs(input: string, defaultRegion: string): string {
  const raw = withPlusPrefix(input.trim().replace(/\s+/g, " "));
  const parsed = parsePhoneNumberFromString(raw, defaultRegion as CountryCode);
  return parsed?.isPossible() ? parsed.formatInternational() : raw;
}

/** How the page names the default region: "Brazil (+55)". */
export function regionLabel(region: string): string {
  const name = new Intl.DisplayNames(["en"], { type: "region" }).of(region) ?? region;
  return `${name} (+${getCountryCallingCode(region as CountryCode)})`;
}

export type PhoneInputProblem = "empty" | "characters" | "too_short" | "too_long";

export const PHONE_PROBLEMS: Record<PhoneInputProblem, string> = {
  empty: "Enter a phone number.",
  characters: "A phone number can only have digits, spaces and + - ( ) . /",
  too_short: "Enter at least 4 digits.",
  too_long: "That is too long for a phone number: at most 17 digits and 40 characters.",
};

/** Why the input cannot be a phone number, before anything is counted or searched; null when it may be. */
export function phoneInputProblem(input: string): PhoneInputProblem | null {
  const raw = input.trim();
  const digits = raw.replace(/\D/g, "");
  if (raw.length === 0) return "empty";
  if (!PHONE_INPUT.test(raw)) return "characters";
  if (digits.length < 4) return "too_short";
  if (raw.length > 40 || digits.length > 17) return "too_long";
  return null;
}

/**
 * The terms to search for, most likely first. Pipedrive keeps phones as people typed them and
 * may match them literally, so we try the forms people type: as given, international with
 * the national punctuation ("+55 11 99999-0001"), national ("(11) 99999-0001"), international
 * with spaces, E.164, and digits only. Bad input is refused before any call.
 */
export function phoneSearchTerms(input: string, defaultRegion: string): string[] {
  const raw = withPlusPrefix(input.trim().replace(/\s+/g, " "));
  const problem = phoneInputProblem(raw);
  if (problem) throw new AppError("invalid_input", "phone input refused", { userMessage: PHONE_PROBLEMS[problem] });
  const parsed = parsePhoneNumberFromString(raw, defaultRegion as CountryCode);
  if (!parsed?.isPossible()) return [raw];
  const national = parsed.formatNational();
  return [
    ...new Set([
      raw,
      `+${parsed.countryCallingCode} ${national.replace(/[()]/g, "").trim()}`,
      national,
      parsed.formatInternational(),
      parsed.number,
      parsed.nationalNumber,
      `${parsed.countryCallingCode}${parsed.nationalNumber}`,
    ]),
  ];
}

/**
 * For callers nobody is watching (lead enrichment, the enrich CLI): a burst limit is waited out
 * for up to a minute. A person at the settings page waits about 5 s at most (the context's default).
 */
export const BATCH_PATIENCE: Patience = { maxWaitMs: 60_000, maxRetries: 20 };

/**
 * A wait with an end: the lookup stops at `deadline` (the context's clock), or when `signal`
 * aborts; `ms` is the whole wait, for the words.
 */
export type LookupBound = { deadline: number; ms: number; signal?: AbortSignal };

/** The page's bound (the context's lookupBoundMs), from now. */
export const lookupBound = (ctx: PipedriveContext, signal?: AbortSignal): LookupBound => ({
  deadline: ctx.now().getTime() + ctx.lookupBoundMs,
  ms: ctx.lookupBoundMs,
  signal,
});

/** Past the bound: stopped after `tried` of `of` terms, nobody found among those. */
function stopped(bound: LookupBound, tried: number, of: number): AppError {
  const seconds = Math.round(bound.ms / 1000);
  return new AppError("lookup_stopped", `lookup stopped at its bound after ${tried} of ${of} terms`, {
    userMessage:
      `Pipedrive answered slowly, so we stopped after ${seconds} seconds, having tried ${tried} of the ${of} ways ` +
      `this number can be written, and found no one so far. Try again in a while, or type the number exactly as ` +
      `it is stored in Pipedrive.`,
  });
}

/**
 * Everyone whose phone matches, under the first term that finds anyone: searches count against
 * Pipedrive's lowest burst limit (10 per 2 s) and the company's daily budget (about 20 tokens
 * each), so each further term is only tried on a miss. Whether Pipedrive's exact match ignores
 * punctuation is not documented; once a company's search has shown that it does (a hit on a
 * phone stored with other punctuation than the term), one term per digit string is enough.
 */
export async function searchPersonsByPhone(
  ctx: PipedriveContext,
  tenantId: string,
  phone: string,
  /** stats: the caller's count of calls; patience: how long it waits out limits; bound: a person's whole wait. */
  { stats, patience, bound }: { stats?: ApiCallStats; patience?: Patience; bound?: LookupBound } = {},
): Promise<Person[]> {
  const allTerms = phoneSearchTerms(phone, ctx.phoneRegion);
  const bounded: Partial<Patience> | undefined = bound ? { ...patience, deadline: bound.deadline } : patience;
  const people = await withAccessToken(ctx, tenantId, async (token) => {
    const [match, fields] = await Promise.all([
      phoneMatchOf(token.apiHost).catch((): PhoneMatch => "unknown"),
      customPhoneFields(ctx, token, bounded),
    ]);
    const terms = match === "digits" ? oneTermPerDigitString(allTerms) : allTerms;
    recordLookup(token.apiHost, ctx.now());
    const search = async (customFields: boolean): Promise<Person[]> => {
      for (const [tried, term] of terms.entries()) {
        // The person gave up (the page's Cancel), or the wait reached its bound: no further search.
        if (bound && (bound.signal?.aborted || ctx.now().getTime() >= bound.deadline))
          throw stopped(bound, tried, terms.length);
        const found = new Map<number, Person>();
        let cursor: string | null = null;
        for (let page = 0; page < MAX_SEARCH_PAGES; page++) {
          const result: { people: Person[]; nextCursor: string | null } = await ctx.api
            .searchPersonsByPhoneTerm(token.apiBaseUrl, token.accessToken, term, {
              cursor,
              stats,
              patience: bounded,
              customFields,
            })
            .catch((error: unknown) => {
              if (bound && isPipedriveError(error) && error.details.deadline) throw stopped(bound, tried, terms.length);
              throw error;
            });
          for (const person of result.people) if (!found.has(person.id)) found.set(person.id, person);
          cursor = result.nextCursor;
          if (!cursor) break;
        }
        if (found.size > 0) {
          const people = [...found.values()];
          // A hit in a custom field shows no phone to compare, so it teaches nothing about punctuation.
          const literal = people.some((p) => p.phones.some((stored) => sameText(stored, term)));
          if (match === "unknown" && !customFields && !literal)
            await learnDigitsMatch(token.apiHost, ctx.now()).catch(() => {});
          return people;
        }
      }
      return [];
    };
    const found = await search(fields.has);
    // A miss may be a number in a custom phone field the company added since we asked: ask again
    // once the answer is a few minutes old, and search those fields too if there is one now.
    if (found.length > 0 || fields.has || ctx.now().getTime() - fields.checkedAt.getTime() < FIELDS_RECHECK_ON_MISS_MS)
      return labelled(found, fields);
    const now = await customPhoneFields(ctx, token, bounded, { ask: true });
    return now.has ? labelled(await search(true), now) : found;
  });
  // A lookup that ran to its end, found or not: the card's "Last used".
  recordUse(tenantId, ctx.now());
  return people;
}

/** A remembered "no custom phone field" is asked again after a miss once it is this old. */
const FIELDS_RECHECK_ON_MISS_MS = 5 * 60_000;

/**
 * Whether this company keeps numbers in custom phone fields, which a search finds only when
 * asked to: from what we remember (a day), else asked (GET /v1/personFields, priced in
 * api-costs.ts); `ask` asks whatever we remember. If it cannot be asked, the lookup goes on with
 * the standard phone field.
 */
async function customPhoneFields(
  ctx: PipedriveContext,
  token: { apiHost: string; apiBaseUrl: string; accessToken: string },
  patience?: Partial<Patience>,
  options: { ask?: boolean } = {},
): Promise<CustomPhoneFields> {
  const known = options.ask ? null : await customPhoneFieldsOf(token.apiHost, ctx.now()).catch(() => null);
  if (known !== null) return known;
  const now = ctx.now();
  try {
    const names = await ctx.api.customPhoneFieldNames(token.apiBaseUrl, token.accessToken, patience);
    await rememberCustomPhoneFields(token.apiHost, names, now).catch(() => {});
    return { has: names.length > 0, names, checkedAt: now };
  } catch {
    return { has: false, names: [], checkedAt: now };
  }
}

/**
 * A number found in a custom field, labelled with the field: Pipedrive's answer gives the value,
 * not the field, so a company with several custom phone fields gets their names together.
 */
function labelled(people: Person[], fields: CustomPhoneFields): Person[] {
  const field = fields.names.length === 1 ? fields.names[0]! : fields.names.join(" or ") || null;
  return people.map((person) =>
    person.customPhones?.length
      ? { ...person, customPhones: person.customPhones.map((found) => ({ ...found, field })) }
      : person,
  );
}

const sameText = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/** The first term of each digit string, in the order given. */
export function oneTermPerDigitString(terms: string[]): string[] {
  const seen = new Set<string>();
  return terms.filter((term) => {
    const digits = term.replace(/\D/g, "");
    if (seen.has(digits)) return false;
    seen.add(digits);
    return true;
  });
}
