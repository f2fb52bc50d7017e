import "server-only";

import { randomUUID } from "node:crypto";

import { z } from "zod";

import { db } from "../../db.ts";
import type { TenantUser } from "../../users/user-store.ts";
import type { Person } from "../client/schemas.ts";

// Lookup results, kept for whoever ran them and shown once; the keeper purges old ones.

/** people: the first MAX_KEPT_MATCHES; total: how many matched in all. */
export type LookupResult = {
  phone: string;
  people: Person[] | null;
  total?: number;
  problem: string | null;
  /** A company pause stopped it: when lookups resume (ISO), for the page to say in the reader's zone. */
  pausedUntil?: string;
};

/** Matches kept and shown of one lookup; the page says how many more there were. */
export const MAX_KEPT_MATCHES = 20;

/** How long a result can be shown. */
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
        ownerId: z.number().nullable().optional(),
        customPhones: z.array(z.object({ field: z.string().nullable(), phone: z.string() })).optional(),
      }),
    )
    .nullable(),
  total: z.number().int().optional(),
  problem: z.string().nullable(),
  pausedUntil: z.iso.datetime().optional().catch(undefined),
});

export async function saveLookup(input: {
  tenantId: string;
  userId: string;
  phone: string;
  result: Omit<LookupResult, "phone">;
  now: Date;
}): Promise<string> {
  const id = randomUUID();
  await db().pipedriveLookup.create({
    data: {
      id,
      tenantId: input.tenantId,
      userId: input.userId,
      phone: input.phone,
      result: {
        ...input.result,
        people: input.result.people?.slice(0, MAX_KEPT_MATCHES) ?? null,
        total: input.result.people?.length ?? 0,
      },
      createdAt: input.now,
    },
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
