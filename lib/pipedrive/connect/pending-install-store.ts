import "server-only";

import { z } from "zod";

import { db, inTransaction, sql } from "../../db.ts";
import type { TokenSet } from "../client/oauth-client.ts";
import { usersMeAnswer, type PipedriveMe } from "../client/schemas.ts";

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

/** How many unconfirmed installs one client address may hold at once. */
export const MAX_PENDING_PER_ADDRESS = 10;

/**
 * Holds a code for this browser, unless its address already holds MAX_PENDING_PER_ADDRESS
 * installs that have not expired: then false, and nothing is written. Counted and written under
 * a lock on the address, so callbacks sent at once cannot all pass the count.
 */
export async function holdCode(browserHash: string, code: string, address: string, now: Date): Promise<boolean> {
  return inTransaction(sql(), async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('pending-install:' || $1))`, [address]);
    const { rowCount } = await client.query(
      `INSERT INTO pipedrive_pending_installs (browser_hash, code, code_expires_at, expires_at, created_at, client_address)
       SELECT $1, $2, $3, $4, $5, $6::varchar
        WHERE (SELECT count(*) FROM pipedrive_pending_installs WHERE client_address = $6::varchar AND expires_at > $5) < $7`,
      [
        browserHash,
        code,
        new Date(now.getTime() + CODE_TTL_MS),
        new Date(now.getTime() + PENDING_TTL_MS),
        now,
        address,
        MAX_PENDING_PER_ADDRESS,
      ],
    );
    return rowCount === 1;
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

/** A row as a DELETE … RETURNING of ours gives it back. */
type ReturnedRow = {
  tenant_id: string | null;
  user_id: string | null;
  access_token: string | null;
  refresh_token: string | null;
  expires_in: number | null;
  api_host: string | null;
  scopes: string[] | null;
  me: unknown;
};

const grantOfReturned = (row: ReturnedRow) =>
  grantOf({
    tenantId: row.tenant_id,
    userId: row.user_id,
    accessToken: row.access_token,
    refreshToken: row.refresh_token,
    expiresIn: row.expires_in,
    apiHost: row.api_host,
    scopes: row.scopes ?? [],
    me: row.me,
  });

/** A grant's columns, as a held row stores them. */
const grantColumns = (grant: PendingGrant, now: Date) => ({
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
});

/** A grant already exchanged (a Reconnect that would switch Pipedrive user), held for the admin's confirmation. */
export async function holdGrant(browserHash: string, grant: PendingGrant, now: Date): Promise<void> {
  await db().pipedrivePendingInstall.create({
    data: { browserHash, codeExpiresAt: now, createdAt: now, ...grantColumns(grant, now) },
  });
}

/** The code was exchanged: from here the row holds a live grant, for this admin and workspace only. */
export async function attachGrant(browserHash: string, grant: PendingGrant, now: Date): Promise<void> {
  await db().pipedrivePendingInstall.update({ where: { browserHash }, data: grantColumns(grant, now) });
}

/** Claims the pending install once, for the admin and workspace it was exchanged for. */
export async function takePending(browserHash: string, tenantId: string, userId: string, now: Date) {
  const rows = await db().$queryRaw<ReturnedRow[]>`DELETE FROM pipedrive_pending_installs
    WHERE browser_hash = ${browserHash} AND tenant_id = ${tenantId}::uuid AND user_id = ${userId}::uuid AND expires_at > ${now}
    RETURNING tenant_id::text, user_id::text, access_token, refresh_token, expires_in, api_host, scopes, me`;
  return rows[0] ? grantOfReturned(rows[0]) : null;
}

/** Forgets this browser's pending install; returns its grant, if it had one, to give back. */
export async function dropPending(browserHash: string): Promise<PendingGrant | null> {
  const found = await db().pipedrivePendingInstall.findUnique({ where: { browserHash } });
  if (!found) return null;
  await db().pipedrivePendingInstall.deleteMany({ where: { browserHash } });
  return grantOf(found);
}

/** Drops this browser's unexpired install, if it holds one: whether it did (once, however many ask at once). */
export async function dropHeld(browserHash: string, now: Date): Promise<boolean> {
  const { count } = await db().pipedrivePendingInstall.deleteMany({ where: { browserHash, expiresAt: { gt: now } } });
  return count > 0;
}

/** How many expired rows the purge takes at a time: a flood of abandoned installs is never loaded at once. */
export const PURGE_BATCH = 200;

/** One batch of abandoned installs, for the keeper: removed, with their grants to give back. */
export async function purgeExpiredPending(now: Date): Promise<{ removed: number; grants: PendingGrant[] }> {
  const rows = await db().$queryRaw<ReturnedRow[]>`DELETE FROM pipedrive_pending_installs
    WHERE browser_hash IN (
      SELECT browser_hash FROM pipedrive_pending_installs WHERE expires_at <= ${now}
      ORDER BY expires_at LIMIT ${PURGE_BATCH} FOR UPDATE SKIP LOCKED)
    RETURNING tenant_id::text, user_id::text, access_token, refresh_token, expires_in, api_host, scopes, me`;
  const grants = rows.map(grantOfReturned).filter((grant): grant is PendingGrant => grant !== null);
  return { removed: rows.length, grants };
}
