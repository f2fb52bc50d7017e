// Starts the Pipedrive OAuth flow for the signed-in admin: issue a state, redirect to consent.
// Only a same-site POST (the Connect and Reconnect forms) starts a flow; a GET, from a link or
// another site, writes no state and no cookie, so it cannot clobber a flow open in another tab.
import { z } from "zod";

import { redirectTo } from "@/lib/http/responses.ts";
import { formRoute } from "@/lib/http/route.ts";
import { redirectToConsent } from "@/lib/pipedrive/connect/consent-redirect.ts";
import { ROUTES } from "@/lib/routes.ts";

export function GET() {
  return redirectTo(ROUTES.settings);
}

export const POST = formRoute(
  { name: "authorize", role: "admin", form: z.object({}), maxBodyBytes: 1024 },
  ({ user }) => redirectToConsent(user),
);
