// An admin's Check now: one look at Pipedrive, where only its answer can end a pause.
import { z } from "zod";

import { redirectTo } from "@/lib/http/responses.ts";
import { formRoute } from "@/lib/http/route.ts";
import { pipedrive } from "@/lib/pipedrive/context.ts";
import { checkNow } from "@/lib/pipedrive/tokens/check-now.ts";
import { outcomePath } from "@/lib/settings-outcomes.ts";

export const POST = formRoute(
  { name: "check-now", role: "admin", form: z.object({}), maxBodyBytes: 1024 },
  async ({ user }) => redirectTo(outcomePath(await checkNow(pipedrive(), user)), 303),
);
