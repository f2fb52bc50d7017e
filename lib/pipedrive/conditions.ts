import type { ConnectionView } from "./connection-store.ts";

// The home of a connection's condition: the one ordered list, worst first, that the settings
// card (badge, Access row, where Reconnect goes) and lead_pipedrive_integration_status (a test
// holds the view to conditionOf for every combination) both follow. Banners explain; this decides.

/** Every condition, worst first: the first one in force is the connection's status. */
export const CONDITIONS = [
  "unavailable",
  "needs_reconnect",
  "host_unrecognised",
  "needs_permissions",
  "subscription_lapsed",
  "access_forbidden",
  "paused",
  "renewal_delayed",
  "connected",
] as const;

export type ConditionKind = (typeof CONDITIONS)[number];

export type Condition =
  | { kind: "unavailable"; since: Date }
  | { kind: "needs_reconnect" }
  | { kind: "host_unrecognised" }
  | { kind: "needs_permissions" }
  | { kind: "subscription_lapsed" }
  | { kind: "access_forbidden" }
  | { kind: "paused"; until: Date }
  | { kind: "renewal_delayed"; lastRan: Date | null }
  | { kind: "connected" };

export type ConditionInput = {
  connection: ConnectionView;
  appCredentialsRejectedSince: Date | null;
  keeper: { down: boolean; seenAt: Date | null };
  /** Members are told about operator problems only when lookups stop. */
  isAdmin: boolean;
};

/** The worst condition in force, in CONDITIONS order. */
export function conditionOf({ connection, appCredentialsRejectedSince, keeper, isAdmin }: ConditionInput): Condition {
  if (appCredentialsRejectedSince) return { kind: "unavailable", since: appCredentialsRejectedSince };
  if (connection.status === "needs_reconnect") return { kind: "needs_reconnect" };
  if (!connection.hostAllowed) return { kind: "host_unrecognised" };
  if (connection.status === "needs_permissions") return { kind: "needs_permissions" };
  if (connection.status === "subscription_lapsed") return { kind: "subscription_lapsed" };
  if (connection.status === "access_forbidden") return { kind: "access_forbidden" };
  if (connection.lookupsPausedUntil) return { kind: "paused", until: connection.lookupsPausedUntil };
  // Lookups still renew access themselves: only the people who can get the keeper restarted need to know.
  if (keeper.down && isAdmin) return { kind: "renewal_delayed", lastRan: keeper.seenAt };
  return { kind: "connected" };
}

/** The badge's words and colour. */
export function badgeOf(condition: Condition, isAdmin: boolean): { text: string; tone: "ok" | "warn" | "error" } {
  switch (condition.kind) {
    case "unavailable":
      return { text: isAdmin ? "Unavailable: app credentials rejected" : "Unavailable", tone: "error" };
    case "needs_reconnect":
    case "host_unrecognised":
      return { text: "Needs reconnect", tone: "warn" };
    case "needs_permissions":
      return { text: "Needs new permissions", tone: "warn" };
    case "subscription_lapsed":
      return { text: "Paused: subscription", tone: "warn" };
    case "access_forbidden":
      return { text: "Paused: Pipedrive permission", tone: "warn" };
    case "paused":
      return { text: "Paused until", tone: "warn" };
    case "renewal_delayed":
      return { text: "Renewal delayed", tone: "warn" };
    case "connected":
      return { text: "Connected", tone: "ok" };
  }
}

/**
 * Where Reconnect goes: inside the banner it fixes, in the actions row when all is well (to
 * switch Pipedrive user), or nowhere when it cannot help (the app's credentials, a lapsed
 * subscription, Pipedrive's rate limit).
 */
export function reconnectPlace(condition: Condition): "banner" | "actions" | "none" {
  switch (condition.kind) {
    case "needs_reconnect":
    case "host_unrecognised":
    case "needs_permissions":
    case "access_forbidden":
      return "banner";
    case "connected":
    case "renewal_delayed":
      return "actions";
    case "unavailable":
    case "subscription_lapsed":
    case "paused":
      return "none";
  }
}
