import { sameSecret } from "../crypto.ts";
import type { ServiceKey } from "../env.ts";

// Services (the lead-enrichment service) call us with `Authorization: Bearer <key>`, one key per
// service from SERVICE_API_KEYS. Every configured key is compared, each in constant time, so
// neither the time taken nor a name says which key was close.

/** The calling service's name, or null for a missing or unknown key. */
export function serviceOf(authorization: string | null, keys: readonly ServiceKey[]): string | null {
  const presented = /^Bearer ([\x21-\x7e]{1,200})$/.exec(authorization ?? "")?.[1] ?? "";
  let name: string | null = null;
  for (const key of keys) if (sameSecret(presented, key.key) && presented !== "") name = key.name;
  return name;
}
