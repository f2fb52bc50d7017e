import "server-only";

import { cookies } from "next/headers";

import { verifiedSession } from "../../auth/session.ts";
import { NO_STORE } from "../../http/responses.ts";
import type { TenantUser } from "../../users/user-store.ts";
import { pipedrive } from "../context.ts";
import { startAuthorization } from "./authorize.ts";

/** A new connect flow for this admin: its state cookie set, and a 303 to Pipedrive's consent page. */
export async function redirectToConsent(admin: TenantUser): Promise<Response> {
  const { url, cookie } = await startAuthorization(pipedrive(), admin, await verifiedSession());
  (await cookies()).set(cookie.name, cookie.value, cookie.options);
  return new Response(null, { status: 303, headers: { ...NO_STORE, Location: url } });
}
