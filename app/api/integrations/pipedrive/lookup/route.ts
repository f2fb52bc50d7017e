// The settings page's phone lookup: a same-site form POST, answered with a redirect to the
// result, so the number stays out of URLs and a cross-site link cannot spend Pipedrive budget.
import { z } from "zod";

import { env } from "@/lib/env.ts";
import { redirectTo } from "@/lib/http/responses.ts";
import { formRoute } from "@/lib/http/route.ts";
import { pipedrive } from "@/lib/pipedrive/context.ts";
import { refusalQuery, typedCookie } from "@/lib/pipedrive/lookup/lookup-refusal.ts";
import { runLookup } from "@/lib/pipedrive/lookup/lookup.ts";
import { ROUTES } from "@/lib/routes.ts";

const lookupForm = z.object({ phone: z.string().default("") });

export const POST = formRoute(
  { name: "lookup", role: "user", form: lookupForm, maxBodyBytes: 2048 },
  async ({ request, user, form }) => {
    // A person who pressed Cancel (or left) hangs up: the lookup stops before its next search.
    const ran = await runLookup(pipedrive(), user, form.phone, request.signal);
    if ("refused" in ran) {
      const answer = redirectTo(`${ROUTES.settings}?${refusalQuery(ran.refused)}`, 303);
      answer.headers.append("Set-Cookie", typedCookie(form.phone, env().APP_URL.startsWith("https:")));
      return answer;
    }
    return redirectTo(`${ROUTES.settings}?lookup=${ran.id}`, 303);
  },
);
