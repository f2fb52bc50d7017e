// Starts the Pipedrive OAuth flow for the signed-in admin: issue a state, redirect to consent.
// Only a same-site POST (the Connect and Reconnect forms) starts a flow; a GET, from a link or
// another site, writes no state and no cookie, so it cannot clobber a flow open in another tab.
import { cookies } from "next/headers";
import { currentUser } from "@/lib/auth/session.ts";
import { htmlPage, isSameOrigin, NO_STORE, redirectTo } from "@/lib/http/responses.ts";
import { startAuthorization } from "@/lib/pipedrive/connect.ts";
import { pipedrive } from "@/lib/pipedrive/context.ts";
import { orServerErrorBanner, SETTINGS_PATH } from "@/lib/pipedrive/outcomes.ts";

export function GET() {
  return redirectTo(SETTINGS_PATH);
}

export async function POST(request: Request) {
  if (!isSameOrigin(request)) return Response.json({ error: { code: "cross_site" } }, { status: 403, headers: NO_STORE });
  return orServerErrorBanner(
    "authorize",
    async () => {
      const user = await currentUser();
      if (!user) return redirectTo(`/sign-in?callbackUrl=${encodeURIComponent(SETTINGS_PATH)}`, 303);
      if (user.role !== "admin") {
        return htmlPage(403, "Admins only", "Only a workspace admin can connect Pipedrive. Ask an admin of your workspace.", {
          href: SETTINGS_PATH,
          label: "Back to integrations",
        });
      }
      const { url, cookie } = await startAuthorization(pipedrive(), user);
      (await cookies()).set(cookie.name, cookie.value, cookie.options);
      return new Response(null, { status: 303, headers: { ...NO_STORE, Location: url } });
    },
    303,
  );
}
