import "server-only";

import { z } from "zod";

import { db } from "../db.ts";
import type { TokenSet } from "./oauth-client.ts";
import { usersMeAnswer, type PipedriveMe } from "./schemas.ts";

// Marketplace installs waiting for a signed-in admin's confirmation, one per browser (the hash of
// an httpOnly cookie). First the code, then the grant it was exchanged for, bound to the admin
// and workspace that exchanged it. Nothing here reaches the shared table.

/** Pipedrive's code lives 5 minutes; the whole confirmation 10. */
export const CODE_TTL_MS = 5 * 60_000;
export const PENDING_TTL_MS = 10 * 60_000;

export type PendingGrant = {
  tenantId: string;
  userId: string;
  tokens: TokenSet & { refreshToken: string; apiHost: string };
  me: PipedriveMe;
};

export type Pending = { code: string | null; codeExpiresAt: Date; grant: PendingGrant | null };

const storedMe = usersMeAnswer.shape.data;

export async function holdCode(browserHash: string, code: string, now: Date): Promise<void> {
  const row = {
    code,
    codeExpiresAt: new Date(now.getTime() + CODE_TTL_MS),
    expiresAt: new Date(now.getTime() + PENDING_TTL_MS),
    createdAt: now,
  };
  // A second install from the same browser replaces the first, which never got a grant.
  await db().pipedrivePendingInstall.upsert({
    where: { browserHash },
    create: { browserHash, ...row },
    update: { ...row, tenantId: null, userId: null, accessToken: null, refreshToken: null, me: undefined },
  });
}

export async function findPending(browserHash: string, now: Date): Promise<Pending | null> {
  const row = await db().pipedrivePendingInstall.findFirst({ where: { browserHash, expiresAt: { gt: now } } });
  if (!row) return null;
  return { code: row.code, codeExpiresAt: row.codeExpiresAt, grant: grantOf(row) };
}

function grantOf(row: {
  tenantId: string | null;
  userId: string | null;
  accessToken: string | null;
  refreshToken: string | null;
  expiresIn: number | null;
  apiHost: string | null;
  scopes: string[];
  me: unknown;
}): PendingGrant | null {
  const me = storedMe.safeParse(row.me);
  if (!row.tenantId || !row.userId || !row.accessToken || !row.refreshToken || !row.apiHost || !me.success) return null;
  const tokens = {
    accessToken: row.accessToken,
    refreshToken: row.refreshToken,
    expiresInSeconds: z.number().int().parse(row.expiresIn),
    scopes: row.scopes,
    apiHost: row.apiHost,
  };
  return { tenantId: row.tenantId, userId: row.userId, tokens, me: me.data };
}

/** The code was exchanged: from here the row holds a live grant, for this admin and workspace only. */
export async function attachGrant(browserHash: string, grant: PendingGrant, now: Date): Promise<void> {
  await db().pipedrivePendingInstall.update({
    where: { browserHash },
    data: {
      code: null,
      tenantId: grant.tenantId,
      userId: grant.userId,
      accessToken: grant.tokens.accessToken,
      refreshToken: grant.tokens.refreshToken,
      expiresIn: grant.tokens.expiresInSeconds,
      apiHost: grant.tokens.apiHost,
      scopes: grant.tokens.scopes ?? [],
      me: grant.me,
      expiresAt: new Date(now.getTime() + PENDING_TTL_MS),
    },
  });
}

/** Claims the pending install once, for the admin and workspace it was exchanged for. */
export async function takePending(browserHash: string, tenantId: string, userId: string, now: Date) {
  const rows = await db().$queryRaw<
    {
      tenant_id: string | null;
      user_id: string | null;
      access_token: string | null;
      refresh_token: string | null;
      expires_in: number | null;
      api_host: string | null;
      scopes: string[] | null;
      me: unknown;
    }[]
  >`DELETE FROM pipedrive_pending_installs
    WHERE browser_hash = ${browserHash} AND tenant_id = ${tenantId}::uuid AND user_id = ${userId}::uuid AND expires_at > ${now}
    RETURNING tenant_id::text, user_id::text, access_token, refresh_token, expires_in, api_host, scopes, me`;
  const found = rows[0];
  if (!found) return null;
  return grantOf({
    tenantId: found.tenant_id,
    userId: found.user_id,
    accessToken: found.access_token,
    refreshToken: found.refresh_token,
    expiresIn: found.expires_in,
    apiHost: found.api_host,
    scopes: found.scopes ?? [],
    me: found.me,
  });
}

/** Forgets this browser's pending install; returns its grant, if it had one, to give back. */
export async function dropPending(browserHash: string): Promise<PendingGrant | null> {
  const found = await db().pipedrivePendingInstall.findUnique({ where: { browserHash } });
  if (!found) return null;
  await db().pipedrivePendingInstall.deleteMany({ where: { browserHash } });
  return grantOf(found);
}

/** Abandoned installs, for the keeper: removed, with their grants to give back. */
export async function purgeExpiredPending(now: Date): Promise<PendingGrant[]> {
  const expired = await db().pipedrivePendingInstall.findMany({ where: { expiresAt: { lte: now } } });
  if (expired.length === 0) return [];
  await db().pipedrivePendingInstall.deleteMany({
    where: { browserHash: { in: expired.map((row) => row.browserHash) }, expiresAt: { lte: now } },
  });
  return expired.map(grantOf).filter((grant): grant is PendingGrant => grant !== null);
}
