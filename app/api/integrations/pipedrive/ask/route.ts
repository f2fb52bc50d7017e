// A member asks the workspace's admins to connect or reconnect Pipedrive (mailed once a day).
import { z } from "zod";

import { redirectTo } from "@/lib/http/responses.ts";
import { formRoute } from "@/lib/http/route.ts";
import { askAdmins } from "@/lib/pipedrive/connect/ask-admins.ts";
import { outcomePath } from "@/lib/settings-outcomes.ts";

export const POST = formRoute(
  { name: "ask-admins", role: "user", form: z.object({}), maxBodyBytes: 1024 },
  async ({ user }) => redirectTo(outcomePath(await askAdmins(user)), 303),
);
