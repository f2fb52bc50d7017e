import { utcTime } from "../../errors.ts";
import { ROUTES } from "../../routes.ts";
import { PHONE_PROBLEMS, type PhoneInputProblem } from "./person-search.ts";

// A lookup refused before it ran: nothing is stored, so the reason travels in the redirect's
// query, as a code and a time. The page words it at render time, so a reload never shows a
// stale "in 59 seconds"; a forged query can only choose among these messages.

export type LookupRefusal =
  { reason: PhoneInputProblem } | { reason: "busy_user" | "busy_workspace" | "daily_budget"; until: Date };

/**
 * What was typed, for the refusal's page to put back in the field: the number must stay out of
 * URLs, so it rides in a short-lived httpOnly cookie scoped to the settings page, read only
 * beside a refusal.
 */
export const TYPED_COOKIE = "pd_lookup_typed";

export function typedCookie(input: string, secure: boolean): string {
  const value = encodeURIComponent(input.slice(0, 60));
  return `${TYPED_COOKIE}=${value}; Path=${ROUTES.settings}; Max-Age=120; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`;
}

/** The typed input a refusal's page shows; null without a refusal in the query. */
export function typedInput(query: Record<string, string | string[] | undefined>, cookie: string | undefined) {
  if (typeof query.lookup_refused !== "string" || !cookie) return null;
  try {
    return decodeURIComponent(cookie).slice(0, 60);
  } catch {
    return null;
  }
}

/** Longest wait a query may claim (the limits' window). */
const MAX_WAIT_MS = 60_000;
/** Longest a daily budget's refusal may claim: the next UTC midnight is at most a day away. */
const MAX_DAY_MS = 24 * 60 * 60_000;

export function refusalQuery(refusal: LookupRefusal): string {
  const params = new URLSearchParams({ lookup_refused: refusal.reason });
  if ("until" in refusal) params.set("until", String(Math.ceil(refusal.until.getTime() / 1000)));
  return params.toString();
}

/**
 * The message for a refusal named in the page's query, and whether the input was at fault;
 * null when there is none (or it is not one of ours).
 */
export function refusalMessage(
  query: Record<string, string | string[] | undefined>,
  now: Date,
  settings: { dailyLimit: number },
): { text: string; badInput: boolean } | null {
  const reason = query.lookup_refused;
  if (typeof reason !== "string") return null;
  if (Object.hasOwn(PHONE_PROBLEMS, reason))
    return { text: PHONE_PROBLEMS[reason as PhoneInputProblem], badInput: true };
  if (reason === "daily_budget") {
    const claimed = Number(query.until) * 1000;
    const until = new Date(
      Number.isFinite(claimed) ? Math.min(Math.max(claimed, now.getTime()), now.getTime() + MAX_DAY_MS) : now.getTime(),
    );
    return {
      text: `This workspace has used its ${settings.dailyLimit.toLocaleString("en")} lookups for today. Lookups resume at ${utcTime(until, true)}. The limit keeps this CRM's share of the company's Pipedrive budget in check.`,
      badInput: false,
    };
  }
  if (reason !== "busy_user" && reason !== "busy_workspace") return null;
  const until = Number(query.until) * 1000;
  const left = Number.isFinite(until) ? Math.min(until - now.getTime(), MAX_WAIT_MS) : MAX_WAIT_MS;
  const when = left <= 0 ? "You can search again now." : `Try again in ${Math.ceil(left / 1000)} seconds.`;
  const text =
    reason === "busy_user"
      ? `You have run many lookups in the last minute. ${when}`
      : `Too many lookups in this workspace right now. ${when}`;
  return { text, badInput: false };
}
