import "server-only";

import { validZone } from "../time-zone.ts";
import { rememberTimeZone, type TenantUser } from "./user-store.ts";

/** The zone the reader's browser named in its cookie, kept for their mails when it is a real one. */
export function noteReaderZone(user: Pick<TenantUser, "id" | "tenantId">, cookieValue: string | undefined): void {
  const zone = validZone(cookieValue);
  if (zone) rememberTimeZone(user, zone);
}
