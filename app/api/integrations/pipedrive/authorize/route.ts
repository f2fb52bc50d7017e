// Starts the Pipedrive OAuth flow for the signed-in admin: issue a state, redirect to consent.
import { cookies } from "next/headers";
import { currentUser } from "@/lib/auth/session.ts";
import { describe } from "@/lib/errors.ts";
import { htmlPage, NO_STORE, redirectTo } from "@/lib/http/responses.ts";
import { startAuthorization } from "@/lib/pipedrive/connect.ts";
import { pipedrive } from "@/lib/pipedrive/context.ts";
import { outcomePath, SETTINGS_PATH } from "@/lib/pipedrive/outcomes.ts";

export async function GET() {
  try {
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
  } catch (error) {
    console.error(`[pipedrive] authorize failed: ${describe(error)}`);
    return redirectTo(outcomePath({ result: "error", reason: "server_error" }));
  }
}
