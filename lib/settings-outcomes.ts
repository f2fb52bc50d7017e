import { z } from "zod";

import { ROUTES } from "./routes.ts";

// The fixed set of results the settings page can be sent back with. Nothing from the
// callback's input is ever echoed: the page only understands these values.

export const errorReasons = [
  "state_missing",
  "state_invalid",
  "state_expired",
  "state_reused",
  "session_missing",
  "forbidden",
  "authorization_failed",
  "exchange_failed",
  "exchange_timeout",
  "profile_failed",
  "install_in_use",
  "install_expired",
  "install_busy",
  "install_admins_only",
  "activity_admins_only",
  "server_error",
] as const;
export type ErrorReason = (typeof errorReasons)[number];

/** What Disconnect did at Pipedrive: uninstalled our install, kept it (another workspace uses it), or tried and failed. */
export const revokeResults = ["done", "kept", "failed"] as const;
export type RevokeResult = (typeof revokeResults)[number];

/** What an admin's Check now found when it repeated the call Pipedrive had refused. */
export const checkFindings = ["works", "still_refused", "still_paused", "nothing_to_check", "too_soon"] as const;
export type CheckFinding = (typeof checkFindings)[number];

export type Outcome =
  | { result: "connected" }
  /** A Reconnect as the same Pipedrive user. */
  | { result: "reconnected" }
  /** A Reconnect as another Pipedrive user; `revoke`: what became of the previous user's app. */
  | { result: "switched"; revoke: RevokeResult }
  | { result: "needs_permissions" }
  | { result: "denied" }
  | { result: "install_cancelled" }
  | { result: "disconnected"; revoke: RevokeResult }
  | { result: "nothing_to_disconnect" }
  | { result: "mail_on" }
  | { result: "mail_off" }
  /** A member asked the admins; or had today already. */
  | { result: "asked" }
  | { result: "already_asked" }
  | { result: "checked"; found: CheckFinding }
  | { result: "error"; reason: ErrorReason }
  /** Not a page outcome: the callback holds a grant and sends the admin to confirm a switch of Pipedrive user. */
  | { result: "confirm_switch" };

/** Every outcome the settings page can be sent back with (tests walk all their banners). */
export const allOutcomes: Outcome[] = [
  { result: "connected" },
  { result: "reconnected" },
  ...revokeResults.map((revoke): Outcome => ({ result: "switched", revoke })),
  { result: "needs_permissions" },
  { result: "denied" },
  { result: "install_cancelled" },
  ...revokeResults.map((revoke): Outcome => ({ result: "disconnected", revoke })),
  { result: "nothing_to_disconnect" },
  { result: "mail_on" },
  { result: "mail_off" },
  { result: "asked" },
  { result: "already_asked" },
  ...checkFindings.map((found): Outcome => ({ result: "checked", found })),
  ...errorReasons.map((reason): Outcome => ({ result: "error", reason })),
];

export function outcomePath(outcome: Outcome): `/${string}` {
  const query = new URLSearchParams({ pipedrive: outcome.result });
  if (outcome.result === "error") query.set("reason", outcome.reason);
  if (outcome.result === "disconnected" || outcome.result === "switched") query.set("revoke", outcome.revoke);
  if (outcome.result === "checked") query.set("found", outcome.found);
  return `${ROUTES.settings}?${query}`;
}

const outcomeQuery = z.union([
  z
    .object({
      pipedrive: z.enum([
        "connected",
        "reconnected",
        "needs_permissions",
        "denied",
        "install_cancelled",
        "nothing_to_disconnect",
        "mail_on",
        "mail_off",
        "asked",
        "already_asked",
      ]),
    })
    .transform((q): Outcome => ({ result: q.pipedrive })),
  z
    .object({ pipedrive: z.literal("disconnected"), revoke: z.enum(revokeResults).catch("done") })
    .transform((q): Outcome => ({ result: "disconnected", revoke: q.revoke })),
  z
    .object({ pipedrive: z.literal("switched"), revoke: z.enum(revokeResults).catch("done") })
    .transform((q): Outcome => ({ result: "switched", revoke: q.revoke })),
  z
    .object({ pipedrive: z.literal("checked"), found: z.enum(checkFindings).catch("nothing_to_check") })
    .transform((q): Outcome => ({ result: "checked", found: q.found })),
  z
    .object({ pipedrive: z.literal("error"), reason: z.enum(errorReasons).catch("server_error") })
    .transform((q): Outcome => ({ result: "error", reason: q.reason })),
]);

export function parseOutcome(query: Record<string, string | string[] | undefined>): Outcome | null {
  const parsed = outcomeQuery.safeParse(query);
  return parsed.success ? parsed.data : null;
}
