// The settings page's phone lookup: a same-site form POST, answered with a redirect to the
// result, so the number stays out of URLs and a cross-site link cannot spend Pipedrive budget.
import { currentUser } from "@/lib/auth/session.ts";
import { isSameOrigin, NO_STORE, redirectTo } from "@/lib/http/responses.ts";
import { pipedrive } from "@/lib/pipedrive/context.ts";
import { runLookup } from "@/lib/pipedrive/lookup.ts";
import { orServerErrorBanner, SETTINGS_PATH } from "@/lib/pipedrive/outcomes.ts";

export async function POST(request: Request) {
  if (!isSameOrigin(request)) return Response.json({ error: { code: "cross_site" } }, { status: 403, headers: NO_STORE });
  if (Number(request.headers.get("content-length") ?? 0) > 2048) return Response.json({ error: { code: "too_large" } }, { status: 413, headers: NO_STORE });
  return orServerErrorBanner(
    "lookup",
    async () => {
      const user = await currentUser();
      if (!user) return redirectTo(`/sign-in?callbackUrl=${encodeURIComponent(SETTINGS_PATH)}`, 303);
      const phone = (await request.formData()).get("phone");
      const id = await runLookup(pipedrive(), user, typeof phone === "string" ? phone : "");
      return redirectTo(`${SETTINGS_PATH}?lookup=${id}#lookup-title`, 303);
    },
    303,
  );
}
