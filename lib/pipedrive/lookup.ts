import { randomUUID } from "node:crypto";

import { z } from "zod";

import { db } from "../db.ts";
import { toAppError } from "../errors.ts";
import { log } from "../log.ts";
import { LIMITS, spend } from "../rate-limits.ts";
import type { TenantUser } from "../users/user-store.ts";
import type { PipedriveContext } from "./context.ts";
import { searchPersonsByPhone } from "./person-search.ts";
import type { Person } from "./schemas.ts";

// The settings page's phone lookup. It is a POST, so the number never sits in a URL, a log
// line or the browser's history; the result is kept for whoever ran it and shown once.

export type LookupResult = { phone: string; people: Person[] | null; problem: string | null };

/** How long a result can be shown. The keeper purges older ones. */
export const LOOKUP_TTL_MS = 10 * 60_000;

const stored = z.object({
  people: z
    .array(
      z.object({
        id: z.number(),
        name: z.string(),
        phones: z.array(z.string()),
        emails: z.array(z.string()),
        organization: z.object({ id: z.number().nullable(), name: z.string().nullable() }).nullable(),
      }),
    )
    .nullable(),
  problem: z.string().nullable(),
});

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
  const id = randomUUID();
  await db().pipedriveLookup.create({
    data: { id, tenantId: user.tenantId, userId: user.id, phone: input, result, createdAt: ctx.now() },
  });
  return id;
}

/** A result this user ran in this workspace, while still fresh; null otherwise. */
export async function loadLookup(user: TenantUser, id: string, now: Date): Promise<LookupResult | null> {
  if (!z.uuid().safeParse(id).success) return null;
  const row = await db().pipedriveLookup.findFirst({
    where: { id, tenantId: user.tenantId, userId: user.id, createdAt: { gt: new Date(now.getTime() - LOOKUP_TTL_MS) } },
  });
  const result = row ? stored.safeParse(row.result) : null;
  return row && result?.success ? { phone: row.phone, ...result.data } : null;
}

export async function purgeOldLookups(now: Date): Promise<number> {
  const { count } = await db().pipedriveLookup.deleteMany({
    where: { createdAt: { lt: new Date(now.getTime() - LOOKUP_TTL_MS) } },
  });
  return count;
}
