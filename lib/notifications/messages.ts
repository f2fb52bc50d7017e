import { z } from "zod";

import { ENTITY_LIMIT_NOTE, refusedPermissionOf } from "../pipedrive/conditions.ts";
import type { NotificationEvent } from "./notification-store.ts";

// What each mail says: what happened in plain words, what the admin should do, and a link.

export type Message = { subject: string; text: string };

/** What an audit event's detail may tell a mail; anything else in it is ignored. */
const mailDetail = z
  .object({
    pipedriveUserName: z.string().max(200).optional().catch(undefined),
    call: z.string().max(40).nullish().catch(undefined),
  })
  .catch({});

export function messageFor(
  event: NotificationEvent,
  workspace: string,
  settingsUrl: string,
  at: Date,
  rawDetail: unknown = {},
): Message {
  const detail = mailDetail.parse(rawDetail ?? {});
  const user = detail.pipedriveUserName;
  const when = `${at.toISOString().slice(0, 16).replace("T", " ")} UTC`;
  const body = (happened: string, todo: string) =>
    `${happened}\n\n${todo}\n\nSettings → Integrations: ${settingsUrl}\n\n` +
    `You get this mail because you are an admin of ${workspace} in the CRM. You can turn these mails off on that page.`;
  switch (event) {
    case "refresh_failed":
      return {
        subject: `Pipedrive stopped working for ${workspace}: reconnect it`,
        text: body(
          `Since ${when}, Pipedrive no longer accepts ${workspace}'s access, so lead enrichment cannot look people up. It may have been removed in Pipedrive, or left unused for 60 days.`,
          "What to do: open the page below, press Reconnect, and allow access in Pipedrive.",
        ),
      };
    case "recovered":
      return {
        subject: `Pipedrive works again for ${workspace}`,
        text: body(
          `Since ${when}, Pipedrive accepts ${workspace}'s access again, and lead enrichment looks people up as before.`,
          "Nothing to do.",
        ),
      };
    case "uninstalled":
      return {
        subject: `The CRM was uninstalled from Pipedrive for ${workspace}`,
        text: body(
          `At ${when}, Pipedrive told us the CRM's app was uninstalled from ${user ? `${user}'s` : "the"} Pipedrive account ${workspace} used, so ${workspace} is no longer connected and lead enrichment stopped.`,
          "What to do: if that was not intended, open the page below and press Connect Pipedrive.",
        ),
      };
    case "needs_permissions":
      return {
        subject: `Pipedrive needs a permission for ${workspace}`,
        text: body(
          `Since ${when}, ${workspace}'s Pipedrive access lacks a permission lookups need, so lead enrichment is paused.`,
          "What to do: open the page below, press Reconnect, and allow every permission Pipedrive asks for.",
        ),
      };
    case "subscription_lapsed":
      return {
        subject: `Pipedrive lookups paused for ${workspace}: subscription not active`,
        text: body(
          `Since ${when}, Pipedrive refuses lookups because the company's Pipedrive subscription is not active.`,
          "What to do: a Pipedrive admin of the company can renew the subscription in Pipedrive. Lookups resume on their own (we check every hour).",
        ),
      };
    case "access_forbidden":
      return {
        subject: `Pipedrive lookups paused for ${workspace}: permission refused`,
        text: body(
          `Since ${when}, Pipedrive refuses ${user ?? "the connected Pipedrive user"} (the Pipedrive user ${workspace} is connected as) permission to ${refusedPermissionOf(detail.call)}, so lead enrichment is paused. ${ENTITY_LIMIT_NOTE}`,
          "What to do: a Pipedrive admin can give that user the permission, or lift the limit, in Pipedrive (lookups resume on their own; we check every hour), or an admin can reconnect as another Pipedrive user on the page below.",
        ),
      };
  }
}
