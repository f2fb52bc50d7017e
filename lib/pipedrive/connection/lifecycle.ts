// A connection's life, as one pure function: its states, the events that move it, and what each
// move writes to the activity log and mails to the admins. No I/O: the stores apply what it
// decides, and a property test runs random histories through the real stores on PostgreSQL
// against it (lifecycle.int.test.ts).

/** Pipedrive drops a refresh token left unused this long (docs/pipedrive-api.md). */
export const REFRESH_TOKEN_IDLE_DAYS = 60;

/** Every status a connection can be in, in one list; the union is derived from it. */
export const CONNECTION_STATUSES = [
  "connected",
  "needs_reconnect",
  "needs_permissions",
  "subscription_lapsed",
  "access_forbidden",
] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

/** Refused by Pipedrive's API itself (402, 403): only a later call of the refused kind proves it over. */
const API_REFUSALS = ["subscription_lapsed", "access_forbidden"] as const satisfies readonly ConnectionStatus[];
export type ApiRefusal = (typeof API_REFUSALS)[number];
export const isApiRefusal = (code: string | null): code is ApiRefusal =>
  (API_REFUSALS as readonly (string | null)[]).includes(code);

export type ConnectionState =
  | { kind: "absent" }
  | {
      kind: "present";
      status: ConnectionStatus;
      /** Pipedrive refused the row's refresh token at this time; the verdict is still out. */
      suspectedSince: Date | null;
      /** The kind of call Pipedrive's API refused (402, 403), while paused by it. */
      refusedCall: string | null;
      /** Which Pipedrive user the connection acts as (a switch changes it). */
      pipedriveUser: number;
    };

export type ConnectionEvent =
  /** A connect, reconnect or confirmed switch saved a grant, as `pipedriveUser`. */
  | { type: "granted"; missingScopes: boolean; pipedriveUser: number }
  /** A refresh Pipedrive accepted; `missingScopes` null when its answer named no scopes. */
  | { type: "refreshed"; missingScopes: readonly string[] | null }
  /** Pipedrive refused the row's refresh token: suspected, not yet judged. */
  | { type: "refresh_refused" }
  /** Another writer's tokens landed in the row after a refusal: nothing to judge. */
  | { type: "row_moved_on" }
  /** The verdict's time came and the row still holds the refused pair. */
  | { type: "verdict" }
  | { type: "api_refused"; refusal: ApiRefusal; call: string | null }
  | { type: "api_works"; call: string | null }
  | { type: "disconnected" }
  | { type: "uninstalled" };

/** What the activity log records of a move (pipedrive_audit_events.event). */
export type AuditEventName =
  | "connected"
  | "reconnected"
  | "needs_permissions"
  | "refresh_failed"
  | "recovered"
  | "subscription_lapsed"
  | "access_forbidden"
  | "disconnected"
  | "uninstalled";

/**
 * What mails the workspace's admins: most are the audit event itself; a reconnect mails when it
 * switches Pipedrive user (whose data enrichment reads changes) or fixes a broken connection.
 */
export const MAILED_EVENTS = [
  "refresh_failed",
  "recovered",
  "uninstalled",
  "needs_permissions",
  "subscription_lapsed",
  "access_forbidden",
  "disconnected",
  "switched_user",
  // Not moves of the connection: its company's Pipedrive limit paused lookups (one mail a pause),
  // and a member asked the admins to connect or reconnect (once a day each).
  "paused",
  "member_asked",
] as const;
export type MailEventName = (typeof MAILED_EVENTS)[number];

export type Decision = { next: ConnectionState; audit: AuditEventName | null; mail: MailEventName | null };

/**
 * What services are told (`pipedrive.connection.<what>`, Standard Webhooks): each change of a
 * connection's condition, from the activity log's event (and a refused renewal's suspicion).
 */
export const SERVICE_EVENTS = [
  "connected",
  "reconnected",
  "switched_user",
  "checking_access",
  "needs_reconnect",
  "recovered",
  "paused",
  "resumed",
  "uninstalled",
  "disconnected",
] as const;
export type ServiceEventName = (typeof SERVICE_EVENTS)[number];

/**
 * The service event a move tells, if any, from what it mails or else what it logs: a reconnect
 * that switched Pipedrive user or fixed a broken connection says so.
 */
export function serviceEventOf(said: string): ServiceEventName | null {
  switch (said) {
    case "connected":
    case "reconnected":
    case "switched_user":
    case "recovered":
    case "disconnected":
    case "uninstalled":
    case "resumed":
      return said;
    case "refresh_failed":
      return "needs_reconnect";
    case "needs_permissions":
    case "subscription_lapsed":
    case "access_forbidden":
    case "paused":
      return "paused";
    default:
      return null;
  }
}

const ABSENT: ConnectionState = { kind: "absent" };
const present = (status: ConnectionStatus, pipedriveUser: number): ConnectionState => ({
  kind: "present",
  status,
  suspectedSince: null,
  refusedCall: null,
  pipedriveUser,
});

/** The mail an audit event sends, given the state it left (a reconnect's depends on what it replaced). */
function mailOf(audit: AuditEventName | null, before: ConnectionState, after: ConnectionState): MailEventName | null {
  if (audit === "reconnected" && before.kind === "present" && after.kind === "present") {
    if (before.pipedriveUser !== after.pipedriveUser) return "switched_user";
    return before.status === "needs_reconnect" ? "recovered" : null;
  }
  return audit !== null && (MAILED_EVENTS as readonly string[]).includes(audit) ? (audit as MailEventName) : null;
}

/** Statuses in which a lookup makes no call: only a change (reconnect, permissions, payment) can help. */
export function pausesLookups(status: ConnectionStatus | null): "needs_permissions" | ApiRefusal | null {
  return status === "needs_permissions" || isApiRefusal(status) ? status : null;
}

/** Refused by the API itself (402, 403): only a later call that works proves it over. */
export function healsByProbe(status: ConnectionStatus | null): status is ApiRefusal {
  return isApiRefusal(status);
}

/**
 * The status after a refresh Pipedrive accepted. It proves the grant alive, nothing more: a lapsed
 * subscription or a missing permission stays until a call works. When the answer says which scopes
 * were granted, they decide whether new permissions are needed.
 */
export function statusAfterRefresh(
  previous: ConnectionStatus | null,
  missingScopes: readonly string[] | null,
): ConnectionStatus {
  if (healsByProbe(previous)) return previous;
  if (missingScopes === null) return previous === "needs_permissions" ? "needs_permissions" : "connected";
  return missingScopes.length > 0 ? "needs_permissions" : "connected";
}

/** One move of a connection's life. An event that does not apply to the state changes nothing. */
export function decide(state: ConnectionState, event: ConnectionEvent, now: Date): Decision {
  const { next, audit } = move(state, event, now);
  return { next, audit, mail: mailOf(audit, state, next) };
}

function move(state: ConnectionState, event: ConnectionEvent, now: Date): Omit<Decision, "mail"> {
  const same = { next: state, audit: null };
  if (event.type === "granted") {
    const status = event.missingScopes ? "needs_permissions" : "connected";
    // A grant without a permission lookups need is said as such, connect or reconnect alike:
    // the activity log must replay to the state it left.
    const next = present(status, event.pipedriveUser);
    if (state.kind === "absent" || status === "needs_permissions") return { next, audit: status };
    return { next, audit: "reconnected" };
  }
  if (state.kind === "absent") return same;
  switch (event.type) {
    case "refreshed": {
      const status = statusAfterRefresh(state.status, event.missingScopes);
      const next = { ...state, status, suspectedSince: null };
      if (status === state.status) return { next, audit: null };
      return { next, audit: status === "connected" ? "recovered" : status === "needs_permissions" ? status : null };
    }
    case "refresh_refused":
      return state.status === "needs_reconnect"
        ? same
        : { next: { ...state, suspectedSince: state.suspectedSince ?? now }, audit: null };
    case "row_moved_on":
      return { next: { ...state, suspectedSince: null }, audit: null };
    case "verdict":
      return state.status === "needs_reconnect"
        ? same
        : { next: { ...state, status: "needs_reconnect", suspectedSince: null }, audit: "refresh_failed" };
    case "api_refused":
      return state.status === "connected" || state.status === "needs_permissions"
        ? { next: { ...state, status: event.refusal, refusedCall: event.call }, audit: event.refusal }
        : same;
    case "api_works": {
      const heals =
        healsByProbe(state.status) &&
        (state.refusedCall === null || event.call === null || state.refusedCall === event.call);
      return heals ? { next: { ...state, status: "connected", refusedCall: null }, audit: "recovered" } : same;
    }
    case "disconnected":
    case "uninstalled":
      return { next: ABSENT, audit: event.type };
  }
}

/** A mail owed: sent, or recorded as a repeat (one mail per incident, not per flap). */
export type MailDecision = { event: MailEventName; repeat: boolean } | null;

/** The mails already owed to a workspace, newest last, as the outbox holds them. */
export type MailHistory = { event: MailEventName; repeat: boolean; at: Date }[];

const DAY_MS = 86_400_000;

/**
 * Whether an audit event mails the admins. A 402 or 403 that comes back within a day of the mail
 * about it is a repeat (recorded, never sent); the recovery that ends a repeat is quiet too, so the
 * admins' last mail still tells the truth.
 */
export function mailFor(event: MailEventName | null, history: MailHistory, now: Date): MailDecision {
  if (event === null) return null;
  if (isApiRefusal(event)) {
    const mailedRecently = history.some(
      (mail) => mail.event === event && !mail.repeat && mail.at.getTime() > now.getTime() - DAY_MS,
    );
    return { event, repeat: mailedRecently };
  }
  if (event === "recovered") {
    const lastIncident = history.filter((mail) => mail.event !== "recovered").at(-1);
    return { event, repeat: lastIncident?.repeat === true };
  }
  return { event, repeat: false };
}

/** The state an audit trail replays to: what the activity log says happened, in order. */
export function replay(events: AuditEventName[]): ConnectionStatus | "absent" {
  let status: ConnectionStatus | "absent" = "absent";
  for (const event of events) {
    switch (event) {
      case "connected":
      case "reconnected":
      case "recovered":
        status = "connected";
        break;
      case "refresh_failed":
        status = "needs_reconnect";
        break;
      case "needs_permissions":
      case "subscription_lapsed":
      case "access_forbidden":
        status = event;
        break;
      case "disconnected":
      case "uninstalled":
        status = "absent";
        break;
    }
  }
  return status;
}
