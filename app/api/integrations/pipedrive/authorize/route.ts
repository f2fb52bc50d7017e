// Starts the Pipedrive OAuth flow for the signed-in admin: issue a state, redirect to consent.
import { cookies } from "next/headers";
import { currentUser } from "@/lib/auth/session.ts";
import { htmlPage, NO_STORE, redirectTo } from "@/lib/http/responses.ts";
import { startAuthorization } from "@/lib/pipedrive/connect.ts";
import { pipedrive } from "@/lib/pipedrive/context.ts";
import { orServerErrorBanner, SETTINGS_PATH } from "@/lib/pipedrive/outcomes.ts";

export function GET() {
  return orServerErrorBanner("authorize", async () => {
    const user = await currentUser();
    if (!user) return redirectTo(`/sign-in?callbackUrl=${encodeURIComponent(SETTINGS_PATH)}`);
    if (user.role !== "admin") {
      return htmlPage(403, "Admins only", "Only a workspace admin can connect Pipedrive. Ask an admin of your workspace.", {
        href: SETTINGS_PATH,
        label: "Back to integrations",
      });
    }
    const { url, cookie } = await startAuthorization(pipedrive(), user);
    (await cookies()).set(cookie.name, cookie.value, cookie.options);
    return new Response(null, { status: 302, headers: { ...NO_STORE, Location: url } });
  });
}
