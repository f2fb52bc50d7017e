import { z } from "zod";

import { USAGE_HINT, utcTime } from "../errors.ts";
import { CONDITION_WORDS } from "../pipedrive/conditions.ts";
import type { ConnectionStatus } from "../pipedrive/connection/lifecycle.ts";
import { alsoInZones } from "../time-zone.ts";
import type { NotificationEvent } from "./notification-store.ts";

// What each mail says: what happened in plain words, what the admin should do, and a link.

export type Message = { subject: string; text: string };

/** What an audit event's detail may tell a mail; anything else in it is ignored. */
const mailDetail = z
  .object({
    pipedriveUserName: z.string().max(200).optional().catch(undefined),
    fromPipedriveUserName: z.string().max(200).optional().catch(undefined),
    companyName: z.string().max(200).optional().catch(undefined),
    by: z.string().max(200).optional().catch(undefined),
    call: z.string().max(40).nullish().catch(undefined),
    until: z.iso.datetime().optional().catch(undefined),
    what: z.enum(["connect", "reconnect"]).optional().catch(undefined),
  })
  .catch({});

export function messageFor(
  event: NotificationEvent,
  workspace: string,
  settingsUrl: string,
  at: Date,
  rawDetail: unknown = {},
  /** The recipients' zones: each time is also given in theirs. */
  zones: readonly string[] = [],
): Message {
  const detail = mailDetail.parse(rawDetail ?? {});
  const user = detail.pipedriveUserName;
  const when = `${at.toISOString().slice(0, 16).replace("T", " ")} UTC${alsoInZones(at, zones)}`;
  const body = (happened: string, todo: string) =>
    `${happened}\n\n${todo}\n\nSettings → Integrations: ${settingsUrl}\n\n` +
    `You get this mail because you are an admin of ${workspace} in the CRM. You can turn these mails off on that page.`;
  // The condition's own words (lib/pipedrive/conditions.ts), as the page and callers have them.
  const fromWords = (kind: Exclude<ConnectionStatus, "connected">) => {
    const words = CONDITION_WORDS[kind].mail!;
    return {
      subject: words.subject(workspace),
      text: body(words.happened(workspace, when, { user, call: detail.call }), words.todo),
    };
  };
  switch (event) {
    case "refresh_failed":
      return fromWords("needs_reconnect");
    case "needs_permissions":
    case "subscription_lapsed":
    case "access_forbidden":
      return fromWords(event);
    case "recovered":
      return {
        subject: `Pipedrive works again for ${workspace}`,
        text: body(
          `Since ${when}, Pipedrive accepts ${workspace}'s access again, and lead enrichment looks people up as before.`,
          "Nothing to do.",
        ),
      };
    case "disconnected":
      return {
        subject: `Pipedrive was disconnected from ${workspace}`,
        text: body(
          `At ${when}, ${detail.by ?? "an admin"} disconnected Pipedrive${user ? ` (${user}'s account${detail.companyName ? ` in ${detail.companyName}` : ""})` : ""} from ${workspace}, so lead enrichment stopped looking people up.`,
          "What to do: if that was not intended, open the page below and press Connect Pipedrive.",
        ),
      };
    case "switched_user":
      return {
        subject: `${workspace} now uses another Pipedrive user`,
        text: body(
          `At ${when}, ${workspace}'s Pipedrive connection was switched from ${detail.fromPipedriveUserName ?? "the previous user"} to ${user ?? "another user"}${detail.by ? ` by ${detail.by}` : ""}. Lead enrichment now reads what ${user ?? "that user"} can see in Pipedrive, and the app was removed from ${detail.fromPipedriveUserName ?? "the previous user"}'s Pipedrive account unless another workspace still uses it.`,
          "What to do: nothing, if that was intended. If not, open the page below and reconnect as the right Pipedrive user.",
        ),
      };
    case "paused": {
      const resume = detail.until ? new Date(detail.until) : null;
      const until = resume ? utcTime(resume, resume.getUTCDate() !== at.getUTCDate()) : null;
      const untilInZones = resume ? `${until}${alsoInZones(resume, zones)}` : null;
      return {
        subject: `Pipedrive lookups are paused for ${workspace}${until ? ` until ${until}` : ""}`,
        text: body(
          `At ${when}, Pipedrive answered that ${detail.companyName ?? "your company"}'s request limit is used up, so lookups for ${workspace} are paused${untilInZones ? ` until ${untilInZones}` : ""}. Every Pipedrive app of the company shares that daily limit.`,
          `What to do: nothing, lookups resume on their own. ${USAGE_HINT}`,
        ),
      };
    }
    case "member_asked": {
      const what = detail.what === "reconnect" ? "reconnect" : "connect";
      return {
        subject: `${detail.by ?? "A member"} asks you to ${what} Pipedrive for ${workspace}`,
        text: body(
          `At ${when}, ${detail.by ?? "a member of " + workspace} asked the workspace's admins to ${what} Pipedrive, so that lead enrichment can look people up.`,
          `What to do: open the page below and press ${what === "reconnect" ? "Reconnect" : "Connect Pipedrive"}.`,
        ),
      };
    }
    case "uninstalled":
      return {
        subject: `The CRM was uninstalled from Pipedrive for ${workspace}`,
        text: body(
          `At ${when}, Pipedrive told us the CRM's app was uninstalled from ${user ? `${user}'s` : "the"} Pipedrive account ${workspace} used, so ${workspace} is no longer connected and lead enrichment stopped.`,
          "What to do: if that was not intended, open the page below and press Connect Pipedrive.",
        ),
      };
  }
}
