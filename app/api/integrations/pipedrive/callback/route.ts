// Pipedrive's redirect back after consent (GET), and its uninstall notice (DELETE).
import { cookies } from "next/headers";
import { currentUser } from "@/lib/auth/session.ts";
import { describe } from "@/lib/errors.ts";
import { NO_STORE, redirectTo } from "@/lib/http/responses.ts";
import { completeAuthorization, STATE_COOKIE } from "@/lib/pipedrive/connect.ts";
import { pipedrive } from "@/lib/pipedrive/context.ts";
import { handleUninstall } from "@/lib/pipedrive/disconnect.ts";
import { outcomePath } from "@/lib/pipedrive/outcomes.ts";

export async function GET(request: Request) {
  const jar = await cookies();
  try {
    const user = await currentUser();
    const query = Object.fromEntries(new URL(request.url).searchParams);
    const { outcome, detail } = await completeAuthorization(pipedrive(), user, { query, cookieState: jar.get(STATE_COOKIE)?.value });
    console.info(`[pipedrive] callback tenant=${user?.tenantId ?? "-"} outcome=${outcomePath(outcome)} (${detail})`);
    return redirectTo(outcomePath(outcome));
  } catch (error) {
    // Even with the database down, the callback ends on the settings page with a banner.
    console.error(`[pipedrive] callback failed: ${describe(error)}`);
    return redirectTo(outcomePath({ result: "error", reason: "server_error" }));
  } finally {
    jar.delete({ name: STATE_COOKIE, path: "/api/integrations/pipedrive/callback" });
  }
}

export async function DELETE(request: Request) {
  const body: unknown = await request.json().catch(() => null);
  const result = await handleUninstall(pipedrive(), request.headers.get("authorization"), body);
  console.info(`[pipedrive] uninstall notice status=${result.status} tenants=${result.tenants}`);
  return Response.json({ ok: result.status === 200 }, { status: result.status, headers: NO_STORE });
}
