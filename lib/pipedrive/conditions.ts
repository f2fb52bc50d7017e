import { REFRESH_TOKEN_IDLE_DAYS, type ConnectionStatus } from "./connection/lifecycle.ts";

/** What a condition is decided from: the parts of the settings page's ConnectionView it reads. */
export type ConnectionFacts = {
  status: ConnectionStatus;
  /** False when the row names a host we would never send a token to. */
  hostAllowed: boolean;
  /** Pipedrive's limit for this company is spent: lookups resume then. */
  lookupsPausedUntil: Date | null;
  /** Pipedrive refused a renewal at `since`; the verdict is due at `dueAt`, and callers wait until then. */
  checking: { since: Date; dueAt: Date } | null;
};

// The home of a connection's condition: the one ordered list, worst first, that the settings
// card (badge, Access row, where Reconnect goes) and lead_pipedrive_integration_status (a test
// holds the view to conditionOf for every combination) both follow. Banners explain; this decides.

/** Every condition, worst first: the first one in force is the connection's status. */
export const CONDITIONS = [
  "unavailable",
  "needs_reconnect",
  "host_unrecognised",
  "checking_access",
  "needs_permissions",
  "subscription_lapsed",
  "access_forbidden",
  "paused",
  "renewal_delayed",
  "connected",
] as const;

export type ConditionKind = (typeof CONDITIONS)[number];

const GRANT_GONE = `Pipedrive no longer accepts this workspace's access. It may have been removed in Pipedrive, or left unused for ${REFRESH_TOKEN_IDLE_DAYS} days.`;

/**
 * Why a grant is gone, as far as we can tell: idleness is named only when the access really went
 * unused that long before it stopped working (not seconds after a renewal).
 */
export function grantGoneWords(connection: {
  lastRefreshedAt: Date | null;
  connectedAt: Date | null;
  lastErrorAt: Date | null;
}): string {
  const used = connection.lastRefreshedAt ?? connection.connectedAt;
  const stopped = connection.lastErrorAt;
  const idleDays = used && stopped ? (stopped.getTime() - used.getTime()) / 86_400_000 : Infinity;
  if (idleDays >= REFRESH_TOKEN_IDLE_DAYS) return GRANT_GONE;
  return "Pipedrive no longer accepts this workspace's access. It was in use until recently, so it was most likely removed in Pipedrive: the app uninstalled there, or its access revoked by a Pipedrive admin.";
}

export type Condition =
  | { kind: "unavailable"; since: Date }
  | { kind: "needs_reconnect" }
  | { kind: "host_unrecognised" }
  | { kind: "checking_access"; since: Date; dueAt: Date }
  | { kind: "needs_permissions" }
  | { kind: "subscription_lapsed" }
  | { kind: "access_forbidden" }
  | { kind: "paused"; until: Date }
  | { kind: "renewal_delayed"; lastRan: Date | null }
  | { kind: "connected" };

export type ConditionInput = {
  connection: ConnectionFacts;
  appCredentialsRejectedSince: Date | null;
  keeper: { down: boolean; seenAt: Date | null };
  /** Members are told about operator problems only when lookups stop. */
  isAdmin: boolean;
};

/**
 * Every condition in force, worst first (CONDITIONS order): the page's banners, one each. The
 * first is the connection's condition; none in force is "connected".
 */
export function conditionsInForce({ connection, appCredentialsRejectedSince, keeper, isAdmin }: ConditionInput) {
  const inForce: (Condition | false | null)[] = [
    appCredentialsRejectedSince && { kind: "unavailable", since: appCredentialsRejectedSince },
    connection.status === "needs_reconnect" && { kind: "needs_reconnect" },
    !connection.hostAllowed && { kind: "host_unrecognised" },
    connection.checking && { kind: "checking_access", ...connection.checking },
    connection.status === "needs_permissions" && { kind: "needs_permissions" },
    connection.status === "subscription_lapsed" && { kind: "subscription_lapsed" },
    connection.status === "access_forbidden" && { kind: "access_forbidden" },
    connection.lookupsPausedUntil && { kind: "paused", until: connection.lookupsPausedUntil },
    // Lookups still renew access themselves: only the people who can get the keeper restarted
    // need to know, and only while nothing else stops lookups.
    keeper.down && isAdmin && connection.status === "connected" && { kind: "renewal_delayed", lastRan: keeper.seenAt },
  ];
  return inForce.filter((condition): condition is Condition => Boolean(condition));
}

/**
 * Whether the page offers a lookup: while the grant itself is in good standing. A pause or an
 * unrecognised host is told at search time, with its reason, rather than by hiding the form.
 */
export const offersLookup = (connection: Pick<ConnectionFacts, "status"> | null): boolean =>
  connection?.status === "connected";

/** The worst condition in force, in CONDITIONS order. */
export function conditionOf(input: ConditionInput): Condition {
  return conditionsInForce(input)[0] ?? { kind: "connected" };
}

/**
 * What Pipedrive refused with a 403, as a Pipedrive admin would name the permission: the
 * banner and the mail say it. Pipedrive's 403 names no permission, so this is from the call.
 */
export function refusedPermissionOf(call: string | null | undefined): string {
  if (call === "users/me") return "read their own Pipedrive user";
  return "see and search people (contacts)";
}

/** Pipedrive's 403 has a second meaning, and the admin deciding what to do needs to know it. */
/** A 403's other cause, as one item of the card's checklist. */
export const ENTITY_LIMIT_CAUSE =
  "The user account has reached a limit for an entity (such as how many people it may hold): a Pipedrive admin can raise it under Settings → Usage limits, or make room.";

export const ENTITY_LIMIT_NOTE =
  "Pipedrive answers the same way when that user account has reached a limit for an entity (such as how many people it may hold).";

/** A mail to a workspace's admins when a connection enters the condition. */
type MailWords = {
  subject: (workspace: string) => string;
  happened: (workspace: string, when: string, detail: { user?: string; call?: string | null }) => string;
  todo: string;
};

type Words = {
  /** The badge, for admins and (where it differs) members. */
  badge: { text: string; memberText?: string; tone: "ok" | "idle" | "warn" | "error" };
  /** What lookups and other callers are told when the condition stops them (lib/errors.ts). */
  caller?: string;
  mail?: MailWords;
  /** lead_pipedrive_integration_status.status: what callers act on. */
  viewStatus: string;
  /** lead_pipedrive_integration_status.reason, for the other team's logs. */
  viewReason: string;
};

/**
 * One table of words per condition. The view's SQL repeats viewStatus and viewReason (SQL cannot
 * import this); lib/integration-status.int.test.ts holds the two to each other.
 */
export const CONDITION_WORDS: Record<ConditionKind, Words> = {
  unavailable: {
    badge: { text: "Unavailable: app credentials rejected", memberText: "Unavailable", tone: "error" },
    caller:
      "Lookups are unavailable: Pipedrive rejects the CRM's app credentials. This is not your workspace's doing, and the CRM's operators have been told.",
    viewStatus: "unavailable",
    viewReason: "Pipedrive rejects the CRM's app credentials; the CRM's operators must fix them.",
  },
  needs_reconnect: {
    badge: { text: "Needs reconnect", tone: "warn" },
    caller: "Pipedrive no longer accepts this workspace's access, so lookups are paused until an admin reconnects it.",
    mail: {
      subject: (workspace) => `Pipedrive stopped working for ${workspace}: reconnect it`,
      happened: (workspace, when) =>
        `Since ${when}, Pipedrive no longer accepts ${workspace}'s access, so lead enrichment cannot look people up. It may have been removed in Pipedrive, or left unused for ${REFRESH_TOKEN_IDLE_DAYS} days.`,
      todo: "What to do: open the page below, press Reconnect, and allow access in Pipedrive.",
    },
    viewStatus: "needs_reconnect",
    viewReason: "Pipedrive no longer accepts this workspace's access; an admin must reconnect.",
  },
  host_unrecognised: {
    badge: { text: "Needs reconnect", tone: "warn" },
    caller:
      "The stored Pipedrive address is not a Pipedrive host, so no request was sent. An admin needs to reconnect Pipedrive.",
    viewStatus: "host_unrecognised",
    viewReason: "The stored Pipedrive address is not a Pipedrive host, so no call is made; an admin must reconnect.",
  },
  // Pipedrive refused a renewal; another writer's may be about to land. No mail until the verdict.
  checking_access: {
    badge: { text: "Checking access", tone: "idle" },
    caller:
      "Pipedrive refused a renewal of this workspace's access; we are checking whether that was a slip or the access is gone. Try again in a minute.",
    viewStatus: "checking_access",
    viewReason: "Pipedrive refused a renewal; the CRM is checking whether the access is gone. Wait until retry_at.",
  },
  needs_permissions: {
    badge: { text: "Needs new permissions", tone: "warn" },
    caller:
      "Pipedrive access is missing a permission lookups need, so lookups are paused until an admin reconnects Pipedrive and allows it.",
    mail: {
      subject: (workspace) => `Pipedrive needs a permission for ${workspace}`,
      happened: (workspace, when) =>
        `Since ${when}, ${workspace}'s Pipedrive access lacks a permission lookups need, so lead enrichment is paused.`,
      todo: "What to do: open the page below, press Reconnect, and allow every permission Pipedrive asks for.",
    },
    viewStatus: "needs_permissions",
    viewReason: "The Pipedrive grant lacks a permission lookups need; an admin must reconnect and allow it.",
  },
  subscription_lapsed: {
    badge: { text: "Paused: subscription", tone: "warn" },
    caller:
      "This company's Pipedrive subscription is not active, so Pipedrive refuses lookups. They resume on their own once it is active again.",
    mail: {
      subject: (workspace) => `Pipedrive lookups paused for ${workspace}: subscription not active`,
      happened: (_workspace, when) =>
        `Since ${when}, Pipedrive refuses lookups because the company's Pipedrive subscription is not active.`,
      todo: "What to do: a Pipedrive admin of the company can renew the subscription in Pipedrive. Lookups resume on their own (we check every hour).",
    },
    viewStatus: "subscription_lapsed",
    viewReason: "The company's Pipedrive subscription is not active; calls resume when it is.",
  },
  access_forbidden: {
    badge: { text: "Paused: Pipedrive permission", tone: "warn" },
    caller:
      "The Pipedrive user who connected this workspace lacks a permission Pipedrive requires for lookups. A Pipedrive admin can grant it, or a workspace admin can reconnect as another user.",
    mail: {
      subject: (workspace) => `Pipedrive lookups paused for ${workspace}: permission refused`,
      happened: (workspace, when, { user, call }) =>
        `Since ${when}, Pipedrive refuses ${user ?? "the connected Pipedrive user"} (the Pipedrive user ${workspace} is connected as) permission to ${refusedPermissionOf(call)}, so lead enrichment is paused. ${ENTITY_LIMIT_NOTE}`,
      todo: "What to do: a Pipedrive admin can give that user the permission, or lift the limit, in Pipedrive (lookups resume on their own; we check every hour), or an admin can reconnect as another Pipedrive user on the page below.",
    },
    viewStatus: "access_forbidden",
    viewReason:
      "Pipedrive refuses the connected user access to contacts; calls resume when a Pipedrive admin allows it.",
  },
  paused: {
    badge: { text: "Paused until", tone: "warn" },
    viewStatus: "paused",
    viewReason: "Pipedrive's request limit for this company is used up until retry_at.",
  },
  // The keeper's delay is an admin's concern: lookups still renew access themselves.
  renewal_delayed: {
    badge: { text: "Renewal delayed", tone: "warn" },
    viewStatus: "connected",
    viewReason: "Connected.",
  },
  connected: { badge: { text: "Connected", tone: "ok" }, viewStatus: "connected", viewReason: "Connected." },
};

/** What lead_pipedrive_integration_status says for a condition. */
export const viewStatusOf = (kind: ConditionKind) => CONDITION_WORDS[kind].viewStatus;

/** The badge's words and colour. */
export function badgeOf(
  condition: Condition,
  isAdmin: boolean,
): { text: string; tone: "ok" | "idle" | "warn" | "error" } {
  const { text, memberText, tone } = CONDITION_WORDS[condition.kind].badge;
  return { text: isAdmin ? text : (memberText ?? text), tone };
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
    case "checking_access":
    case "subscription_lapsed":
    case "paused":
      return "none";
  }
}
