import { AppError, toAppError, utcTime } from "../../errors.ts";
import { log } from "../../log.ts";
import { count } from "../../metrics/metric-store.ts";
import { dailyLookupLimit, giveBack, LIMITS, spentPoints, take } from "../../rate-limit-store.ts";
import type { TenantUser } from "../../users/user-store.ts";
import type { Person } from "../client/schemas.ts";
import { usesWritten } from "../connection/connection-store.ts";
import type { PipedriveContext } from "../context.ts";
import type { LookupRefusal } from "./lookup-refusal.ts";
import { saveLookup, type LookupResult } from "./lookup-store.ts";
import {
  BATCH_PATIENCE,
  lookupBound,
  PHONE_PROBLEMS,
  phoneInputProblem,
  searchPersonsByPhone,
} from "./person-search.ts";

// The settings page's phone lookup. It is a POST, so the number never sits in a URL, a log
// line or the browser's history; the result is kept for whoever ran it and shown once.
// Input that cannot be a phone number is refused before it counts against any limit, and a
// refused lookup writes nothing.

/**
 * Runs the lookup within the user's and the workspace's limits and keeps its result; its id,
 * or why it was refused.
 */
export async function runLookup(
  ctx: PipedriveContext,
  user: TenantUser,
  phone: string,
  signal?: AbortSignal,
): Promise<{ id: string } | { refused: LookupRefusal }> {
  const input = phone.slice(0, 60);
  const problem = phoneInputProblem(input);
  if (problem) {
    count("lookups_total", "invalid_input");
    return { refused: { reason: problem } };
  }
  const now = ctx.now().getTime();
  const mine = await take(LIMITS.lookupByUser, user.id);
  if ("wait" in mine) {
    count("lookups_total", "limited");
    return { refused: { reason: "busy_user", until: new Date(now + mine.wait * 1000) } };
  }
  const workspace = await take(LIMITS.lookup, user.tenantId);
  if ("wait" in workspace) {
    // Not spent: this user's point goes back.
    await giveBack(LIMITS.lookupByUser, user.id);
    count("lookups_total", "limited");
    return { refused: { reason: "busy_workspace", until: new Date(now + workspace.wait * 1000) } };
  }
  const today = await take(dailyLookupLimit(ctx.lookupDailyLimit), dayKey(user.tenantId, ctx.now()));
  if ("wait" in today) {
    await Promise.all([giveBack(LIMITS.lookupByUser, user.id), giveBack(LIMITS.lookup, user.tenantId)]);
    count("lookups_total", "daily_budget");
    return { refused: { reason: "daily_budget", until: nextUtcMidnight(ctx.now()) } };
  }
  let result: Omit<LookupResult, "phone">;
  try {
    const people = await searchPersonsByPhone(ctx, user.tenantId, input, { bound: lookupBound(ctx, signal) });
    result = { people, problem: null };
    count("lookups_total", result.people!.length > 0 ? "found" : "not_found");
  } catch (error) {
    const appError = toAppError(error);
    count("lookups_total", appError.code);
    if (appError.code === "internal") log().error({ tenant: user.tenantId, error: appError.message }, "lookup failed");
    const pausedUntil =
      appError.code === "rate_limited" && appError.retryAt ? appError.retryAt.toISOString() : undefined;
    result = { people: null, problem: appError.userMessage, pausedUntil };
  }
  // The card this person is sent back to shows when lookups last worked: written before it is read.
  await usesWritten();
  return { id: await saveLookup({ tenantId: user.tenantId, userId: user.id, phone: input, result, now: ctx.now() }) };
}

/**
 * A service's lookup (the enrich CLI's and POST /api/services/pipedrive/persons/search): the
 * page's checks of the number, the workspace's daily budget, the same search with custom phone
 * fields, and the same words. `bound`: a caller waiting on an answer (the endpoint); without
 * one, a batch that waits out Pipedrive's limits (the CLI). Throws an AppError when it cannot answer.
 */
export async function lookupForService(
  ctx: PipedriveContext,
  tenantId: string,
  phone: string,
  how: { bound: boolean },
): Promise<Person[]> {
  const input = phone.slice(0, 60);
  const problem = phoneInputProblem(input);
  if (problem) throw new AppError("invalid_input", `phone: ${problem}`, { userMessage: PHONE_PROBLEMS[problem] });
  const today = await take(dailyLookupLimit(ctx.lookupDailyLimit), dayKey(tenantId, ctx.now()));
  if ("wait" in today) {
    const until = nextUtcMidnight(ctx.now());
    count("lookups_total", "daily_budget");
    throw new AppError("rate_limited", "the workspace's daily lookups are used up", {
      retryAt: until,
      userMessage: `This workspace's ${ctx.lookupDailyLimit} lookups for today are used up; they start again at ${utcTime(until, true)}.`,
    });
  }
  const people = await searchPersonsByPhone(
    ctx,
    tenantId,
    input,
    how.bound ? { bound: lookupBound(ctx) } : { patience: BATCH_PATIENCE },
  );
  count("lookups_total", people.length > 0 ? "found" : "not_found");
  return people;
}

const dayKey = (tenantId: string, now: Date) => `${tenantId}:${now.toISOString().slice(0, 10)}`;
const nextUtcMidnight = (now: Date) =>
  new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));

/** The workspace's page lookups today (UTC) against its daily budget. */
export async function lookupsToday(ctx: PipedriveContext, tenantId: string): Promise<{ used: number; limit: number }> {
  const limit = ctx.lookupDailyLimit;
  return { used: Math.min(await spentPoints(dailyLookupLimit(limit), dayKey(tenantId, ctx.now())), limit), limit };
}
