import "server-only";

import { sql } from "../db.ts";

// Addresses each account has signed in from (table known_sign_in_addresses).

const KEEP_DAYS = 90;

export async function isKnownAddress(account: string, address: string): Promise<boolean> {
  const { rowCount } = await sql().query(
    `SELECT 1 FROM known_sign_in_addresses WHERE account = $1 AND address = $2 AND last_success_at > now() - make_interval(days => $3)`,
    [account, address, KEEP_DAYS],
  );
  return (rowCount ?? 0) > 0;
}

export async function rememberAddress(account: string, address: string, now: Date): Promise<void> {
  await sql().query(
    `INSERT INTO known_sign_in_addresses (account, address, last_success_at) VALUES ($1, $2, $3)
     ON CONFLICT (account, address) DO UPDATE SET last_success_at = EXCLUDED.last_success_at`,
    [account, address, now],
  );
}

export async function purgeStaleAddresses(now: Date): Promise<number> {
  const { rowCount } = await sql().query(
    `DELETE FROM known_sign_in_addresses WHERE last_success_at < $1::timestamptz - make_interval(days => $2)`,
    [now, KEEP_DAYS],
  );
  return rowCount ?? 0;
}
