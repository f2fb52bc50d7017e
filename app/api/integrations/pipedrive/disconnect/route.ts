// Disconnects the tenant's Pipedrive account (plain form POST from the settings page).
import { currentUser } from "@/lib/auth/session.ts";
import { isSameOrigin, redirectTo } from "@/lib/http/responses.ts";
import { requestLog } from "@/lib/log.ts";
import { pipedrive } from "@/lib/pipedrive/context.ts";
import { disconnect } from "@/lib/pipedrive/disconnect.ts";
import { orServerErrorBanner, outcomePath, SETTINGS_PATH } from "@/lib/pipedrive/outcomes.ts";

export async function POST(request: Request) {
  if (!isSameOrigin(request)) return Response.json({ error: { code: "cross_site" } }, { status: 403 });
  return orServerErrorBanner(
    "disconnect",
    async () => {
      const user = await currentUser();
      if (!user) return redirectTo(`/sign-in?callbackUrl=${encodeURIComponent(SETTINGS_PATH)}`, 303);
      if (user.role !== "admin") return redirectTo(outcomePath({ result: "error", reason: "forbidden" }), 303);
      const { removed, revokeFailed } = await disconnect(pipedrive(), user);
      requestLog(request, { tenant: user.tenantId }).info({ outcome: removed ? "disconnected" : "nothing_to_disconnect", revokeFailed }, "pipedrive disconnect");
      return redirectTo(outcomePath(removed ? { result: "disconnected", revokeFailed } : { result: "nothing_to_disconnect" }), 303);
    },
    303,
  );
}
