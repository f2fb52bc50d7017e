import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js";
import { AppError } from "../errors.ts";
import type { ApiCallStats } from "./api-client.ts";
import type { PipedriveContext } from "./context.ts";
import type { Person } from "./schemas.ts";
import { withAccessToken } from "./token-access.ts";

const PHONE_INPUT = /^[0-9+()\-.\s/]+$/;

/**
 * The terms to search for: Pipedrive keeps phones as typed ("+55 11 99999-9999"), so we
 * try the E.164 form and the input as given. Bad input is refused before any call.
 */
export function phoneSearchTerms(input: string, defaultRegion: string): string[] {
  const raw = input.trim().replace(/\s+/g, " ");
  const digits = raw.replace(/\D/g, "");
  if (raw.length === 0 || raw.length > 40 || !PHONE_INPUT.test(raw) || digits.length < 4 || digits.length > 17) {
    throw new AppError("invalid_input", "phone input refused", {
      userMessage: "Enter a phone number: digits, spaces, +, -, ( and ), at most 40 characters.",
    });
  }
  const parsed = parsePhoneNumberFromString(raw, defaultRegion as CountryCode);
  const e164 = parsed?.isPossible() ? parsed.number : null;
  return [...new Set([e164, raw].filter((term): term is string => Boolean(term)))];
}

export async function searchPersonsByPhone(
  ctx: PipedriveContext,
  tenantId: string,
  phone: string,
  stats?: ApiCallStats,
): Promise<Person[]> {
  const terms = phoneSearchTerms(phone, ctx.phoneRegion);
  return withAccessToken(ctx, tenantId, async (token) => {
    const found = new Map<number, Person>();
    // One term after the other: searches count against a lower burst limit.
    for (const term of terms) {
      for (const person of await ctx.api.searchPersonsByPhoneTerm(token.apiBaseUrl, token.accessToken, term, stats)) {
        if (!found.has(person.id)) found.set(person.id, person);
      }
    }
    return [...found.values()];
  });
}
