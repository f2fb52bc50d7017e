// Disconnects the tenant's Pipedrive account (plain form POST from the settings page).
import { z } from "zod";

import { redirectTo } from "@/lib/http/responses.ts";
import { formRoute } from "@/lib/http/route.ts";
import { pipedrive } from "@/lib/pipedrive/context.ts";
import { disconnect } from "@/lib/pipedrive/disconnect.ts";
import { outcomePath } from "@/lib/pipedrive/outcomes.ts";

export const POST = formRoute(
  { name: "disconnect", role: "admin", form: z.object({}), maxBodyBytes: 1024 },
  async ({ user, log }) => {
    const { removed, revokeFailed } = await disconnect(pipedrive(), user);
    log.info({ outcome: removed ? "disconnected" : "nothing_to_disconnect", revokeFailed }, "pipedrive disconnect");
    return redirectTo(
      outcomePath(removed ? { result: "disconnected", revokeFailed } : { result: "nothing_to_disconnect" }),
      303,
    );
  },
);
