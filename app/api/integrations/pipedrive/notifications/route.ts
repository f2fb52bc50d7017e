// An admin turns mail about the Pipedrive connection on or off, for themselves only.
import { z } from "zod";

import { redirectTo } from "@/lib/http/responses.ts";
import { formRoute } from "@/lib/http/route.ts";
import { setMailPreference } from "@/lib/pipedrive/settings-view.ts";
import { outcomePath } from "@/lib/settings-outcomes.ts";

const preferenceForm = z.object({ mail: z.enum(["on"]).optional() });

export const POST = formRoute(
  { name: "notifications", role: "admin", form: preferenceForm, maxBodyBytes: 1024 },
  async ({ user, form }) => {
    const on = form.mail === "on";
    await setMailPreference(user, on);
    // No #fragment: a page with a target skips autofocus, and the confirmation beside the checkbox takes focus.
    return redirectTo(outcomePath({ result: on ? "mail_on" : "mail_off" }), 303);
  },
);
