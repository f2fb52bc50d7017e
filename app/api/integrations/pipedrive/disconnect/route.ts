// Disconnects the tenant's Pipedrive account (plain form POST from the settings page).
import { z } from "zod";

import { redirectTo } from "@/lib/http/responses.ts";
import { formRoute } from "@/lib/http/route.ts";
import { disconnect } from "@/lib/pipedrive/connect/disconnect.ts";
import { pipedrive } from "@/lib/pipedrive/context.ts";
import { outcomePath, type Outcome } from "@/lib/settings-outcomes.ts";

export const POST = formRoute(
  { name: "disconnect", role: "admin", form: z.object({}), maxBodyBytes: 1024 },
  async ({ user, log }) => {
    const { removed, revoke } = await disconnect(pipedrive(), user);
    const outcome: Outcome =
      removed && revoke !== "none" ? { result: "disconnected", revoke } : { result: "nothing_to_disconnect" };
    log.info({ outcome: outcome.result, revoke }, "pipedrive disconnect");
    return redirectTo(outcomePath(outcome), 303);
  },
);
