import "server-only";

import { AppError } from "../../errors.ts";
import { LIMITS, take } from "../../rate-limit-store.ts";
import type { Outcome } from "../../settings-outcomes.ts";
import type { TenantUser } from "../../users/user-store.ts";
import { noteAsk } from "../connection/connection-store.ts";
import { connectedAs } from "../settings-view-store.ts";

// A member cannot connect or reconnect Pipedrive; they ask the workspace's admins instead, from
// the settings page. Once a day per member: the admins' mail is not a channel anyone can flood.

export async function askAdmins(member: TenantUser): Promise<Outcome> {
  if (member.role === "admin") throw new AppError("forbidden", "an admin asked the admins");
  if ("wait" in (await take(LIMITS.askAdmins, member.id))) return { result: "already_asked" };
  const what = (await connectedAs(member.tenantId)) ? "reconnect" : "connect";
  await noteAsk(member, what);
  return { result: "asked" };
}
