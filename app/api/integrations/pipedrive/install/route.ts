// A Marketplace install, after the callback held its code: GET resumes it for the signed-in user
// (an admin's code is exchanged, to be confirmed); POST is the confirmation page's Connect, Cancel, or
// Connect as another Pipedrive user (a new flow, after the held grant is given back).
import { cookies } from "next/headers";
import { z } from "zod";

import { currentUser } from "@/lib/auth/session.ts";
import { redirectTo } from "@/lib/http/responses.ts";
import { formRoute, redirectRoute } from "@/lib/http/route.ts";
import { redirectToConsent } from "@/lib/pipedrive/connect/consent-redirect.ts";
import {
  cancelInstall,
  confirmInstall,
  INSTALL_COOKIE,
  RESUME_REFUSED,
  resumeInstall,
} from "@/lib/pipedrive/connect/marketplace.ts";
import { pipedrive } from "@/lib/pipedrive/context.ts";
import { ROUTES, signInUrl } from "@/lib/routes.ts";
import { outcomePath } from "@/lib/settings-outcomes.ts";

export const GET = redirectRoute("install", async () => {
  const user = await currentUser();
  if (!user) return redirectTo(signInUrl(ROUTES.install));
  const jar = await cookies();
  const resumed = await resumeInstall(pipedrive(), user, jar.get(INSTALL_COOKIE)?.value);
  if (resumed === "confirm") return redirectTo(ROUTES.installConfirm);
  jar.delete({ name: INSTALL_COOKIE, path: "/" });
  return redirectTo(outcomePath({ result: "error", reason: RESUME_REFUSED[resumed] }));
});

const decision = z.object({ decision: z.enum(["connect", "cancel", "another_user"]) });

export const POST = formRoute(
  { name: "install", role: "admin", form: decision, maxBodyBytes: 1024 },
  async ({ user, form, log }) => {
    const jar = await cookies();
    const cookie = jar.get(INSTALL_COOKIE)?.value;
    jar.delete({ name: INSTALL_COOKIE, path: "/" });
    const { outcome, detail } =
      form.decision === "connect"
        ? await confirmInstall(pipedrive(), user, cookie)
        : await cancelInstall(pipedrive(), user, cookie);
    log.info({ outcome: outcomePath(outcome), detail }, "pipedrive marketplace install");
    if (form.decision !== "another_user") return redirectTo(outcomePath(outcome), 303);
    // The held grant is given back; a new flow goes to Pipedrive's consent, to choose another user.
    return redirectToConsent(user);
  },
);
