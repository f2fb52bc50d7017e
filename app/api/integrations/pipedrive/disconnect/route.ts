// Disconnects the tenant's Pipedrive account (plain form POST from the settings page).
import { currentUser } from "@/lib/auth/session.ts";
import { describe } from "@/lib/errors.ts";
import { isSameOrigin, redirectTo } from "@/lib/http/responses.ts";
import { pipedrive } from "@/lib/pipedrive/context.ts";
import { disconnect } from "@/lib/pipedrive/disconnect.ts";
import { outcomePath, SETTINGS_PATH } from "@/lib/pipedrive/outcomes.ts";

export async function POST(request: Request) {
  if (!isSameOrigin(request)) return Response.json({ error: { code: "cross_site" } }, { status: 403 });
  try {
    const user = await currentUser();
    if (!user) return redirectTo(`/sign-in?callbackUrl=${encodeURIComponent(SETTINGS_PATH)}`, 303);
    if (user.role !== "admin") return redirectTo(outcomePath({ result: "error", reason: "forbidden" }), 303);
    const { revokeFailed } = await disconnect(pipedrive(), user);
    console.info(`[pipedrive] disconnected tenant=${user.tenantId} revokeFailed=${revokeFailed}`);
    return redirectTo(outcomePath({ result: "disconnected", revokeFailed }), 303);
  } catch (error) {
    console.error(`[pipedrive] disconnect failed: ${describe(error)}`);
    return redirectTo(outcomePath({ result: "error", reason: "server_error" }), 303);
  }
}
