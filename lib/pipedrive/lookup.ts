import { toAppError } from "../errors.ts";
import { log } from "../log.ts";
import { LIMITS, spend } from "../rate-limit-store.ts";
import type { TenantUser } from "../users/user-store.ts";
import type { PipedriveContext } from "./context.ts";
import { saveLookup, type LookupResult } from "./lookup-store.ts";
import { searchPersonsByPhone } from "./person-search.ts";

// The settings page's phone lookup. It is a POST, so the number never sits in a URL, a log
// line or the browser's history; the result is kept for whoever ran it and shown once.

/** Runs the lookup (within the workspace's rate limit) and keeps its result; returns its id. */
export async function runLookup(ctx: PipedriveContext, user: TenantUser, phone: string): Promise<string> {
  const input = phone.slice(0, 60);
  let result: Omit<LookupResult, "phone">;
  const wait = await spend(LIMITS.lookup, user.tenantId);
  if (wait > 0) {
    result = { people: null, problem: `Too many lookups in this workspace right now. Try again in ${wait} seconds.` };
  } else {
    try {
      result = { people: await searchPersonsByPhone(ctx, user.tenantId, input), problem: null };
    } catch (error) {
      const appError = toAppError(error);
      if (appError.code === "internal")
        log().error({ tenant: user.tenantId, error: appError.message }, "lookup failed");
      result = { people: null, problem: appError.userMessage };
    }
  }
  return saveLookup({ tenantId: user.tenantId, userId: user.id, phone: input, result, now: ctx.now() });
}
