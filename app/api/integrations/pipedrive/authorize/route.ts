// Starts the Pipedrive OAuth flow for the signed-in admin: issue a state, redirect to consent.
// Only a same-site POST (the Connect and Reconnect forms) starts a flow; a GET, from a link or
// another site, writes no state and no cookie, so it cannot clobber a flow open in another tab.
import { cookies } from "next/headers";
import { z } from "zod";

import { verifiedSession } from "@/lib/auth/session.ts";
import { NO_STORE, redirectTo } from "@/lib/http/responses.ts";
import { formRoute } from "@/lib/http/route.ts";
import { startAuthorization } from "@/lib/pipedrive/connect/authorize.ts";
import { pipedrive } from "@/lib/pipedrive/context.ts";
import { ROUTES } from "@/lib/routes.ts";

export function GET() {
  return redirectTo(ROUTES.settings);
}

export const POST = formRoute(
  { name: "authorize", role: "admin", form: z.object({}), maxBodyBytes: 1024 },
  async ({ user }) => {
    const { url, cookie } = await startAuthorization(pipedrive(), user, await verifiedSession());
    (await cookies()).set(cookie.name, cookie.value, cookie.options);
    return new Response(null, { status: 303, headers: { ...NO_STORE, Location: url } });
  },
);
