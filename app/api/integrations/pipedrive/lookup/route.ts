// The settings page's phone lookup: a same-site form POST, answered with a redirect to the
// result, so the number stays out of URLs and a cross-site link cannot spend Pipedrive budget.
import { z } from "zod";

import { redirectTo } from "@/lib/http/responses.ts";
import { formRoute } from "@/lib/http/route.ts";
import { pipedrive } from "@/lib/pipedrive/context.ts";
import { refusalQuery } from "@/lib/pipedrive/lookup-refusal.ts";
import { runLookup } from "@/lib/pipedrive/lookup.ts";
import { SETTINGS_PATH } from "@/lib/pipedrive/outcomes.ts";

const lookupForm = z.object({ phone: z.string().default("") });

export const POST = formRoute(
  { name: "lookup", role: "user", form: lookupForm, maxBodyBytes: 2048 },
  async ({ user, form }) => {
    const ran = await runLookup(pipedrive(), user, form.phone);
    if ("refused" in ran) return redirectTo(`${SETTINGS_PATH}?${refusalQuery(ran.refused)}#lookup-title`, 303);
    return redirectTo(`${SETTINGS_PATH}?lookup=${ran.id}#lookup-title`, 303);
  },
);
