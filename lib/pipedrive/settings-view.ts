import { keeperStatus } from "../health.ts";
import { activeAlerts, APP_CREDENTIALS_REJECTED } from "../operator-alert-store.ts";
import { adminNames, pipedriveMailOn, setPipedriveMail, type TenantUser } from "../users/user-store.ts";
import type { PipedriveMe } from "./client/schemas.ts";
import { scopeInWords } from "./client/scopes.ts";
import { pendingInstallFor } from "./connect/marketplace.ts";
import type { PipedriveContext } from "./context.ts";
import { lastScanAt } from "./keeper/keeper-store.ts";
import { loadLookup, type LookupResult } from "./lookup/lookup-store.ts";
import { lookupsToday } from "./lookup/lookup.ts";
import { usageToday, type UsageToday } from "./lookup/usage-store.ts";
import {
  auditEvents,
  connectedAs,
  getConnectionView,
  installHolders,
  lastUninstall,
  type AuditEntry,
  type ConnectionView,
  type Uninstall,
} from "./settings-view-store.ts";

// Everything the settings page shows, read in one place, so the page imports no store.

export type { AuditEntry, Uninstall };

export type SettingsView = {
  connection: ConnectionView | null;
  /** Not connected because the app was uninstalled in Pipedrive (for members too). */
  uninstalled: Uninstall | null;
  /** Who connected what, and why it failed: the newest few, for admins only. */
  events: AuditEntry[];
  keeper: { down: boolean; seenAt: Date | null };
  /** Pipedrive refuses the app's own credentials since then (an operator problem). */
  appCredentialsRejectedSince: Date | null;
  lookup: LookupResult | null;
  /** Admins only: whether this admin gets mail about the connection (null for members). */
  mailOn: boolean | null;
  /** Our estimated use of the company's Pipedrive budget today (UTC); null when not connected. */
  usage: UsageToday | null;
  /** The workspace's page lookups today (UTC) against its daily limit; null when not connected. */
  lookupsToday: { used: number; limit: number } | null;
  /** What a connection may do, in words, said before Connect: who it is, and what lookups need. */
  permissionsAsked: string[];
  /** The workspace's admins' names: whom a member asks. Empty for admins. */
  admins: string[];
};

export async function loadSettingsView(
  ctx: PipedriveContext,
  user: TenantUser,
  lookupId: string | null,
): Promise<SettingsView> {
  const now = ctx.now();
  const [connection, events, seenAt, alerts, lookup, mailOn, admins] = await Promise.all([
    getConnectionView(user.tenantId, { hosts: ctx.hosts, now, requiredScopes: ctx.requiredScopes }),
    user.role === "admin" ? auditEvents(user.tenantId, { take: RECENT_EVENTS }) : Promise.resolve([]),
    lastScanAt(),
    activeAlerts(),
    lookupId === null ? Promise.resolve(null) : loadLookup(user, lookupId, now),
    user.role === "admin" ? pipedriveMailOn(user) : Promise.resolve(null),
    user.role === "admin" ? Promise.resolve([]) : adminNames(user.tenantId),
  ]);
  // Only a page with nothing connected asks why.
  // The budget is a company's, spent by all its integrations: a matter for admins, not members.
  const [usage, uninstalled] = connection
    ? [user.role === "admin" ? await usageToday(connection.apiHost, now).catch(() => null) : null, null]
    : [null, await lastUninstall(user.tenantId)];
  const today = connection ? await lookupsToday(ctx, user.tenantId).catch(() => null) : null;
  const appRejected = alerts.find((alert) => alert.kind === APP_CREDENTIALS_REJECTED);
  return {
    connection,
    uninstalled,
    events,
    keeper: { down: keeperStatus(seenAt, now) !== "ok", seenAt },
    appCredentialsRejectedSince: appRejected?.firstSeenAt ?? null,
    lookup,
    mailOn,
    usage,
    lookupsToday: today,
    permissionsAsked: [...new Set(["base", ...ctx.requiredScopes])].map(scopeInWords),
    admins,
  };
}

/** The card shows this many activity entries; the activity page pages by ACTIVITY_PAGE. */
export const RECENT_EVENTS = 8;
export const ACTIVITY_PAGE = 50;

/** One page of the audit trail, newest first, and whether there are older entries. Admins only. */
export async function loadActivity(
  user: TenantUser,
  before: string | null,
): Promise<{ events: AuditEntry[]; older: string | null }> {
  if (user.role !== "admin") return { events: [], older: null };
  const page = await auditEvents(user.tenantId, {
    take: ACTIVITY_PAGE + 1,
    before: before !== null && /^[1-9][0-9]{0,17}$/.test(before) ? before : null,
  });
  const events = page.slice(0, ACTIVITY_PAGE);
  return { events, older: page.length > ACTIVITY_PAGE ? events.at(-1)!.id : null };
}

export type DisconnectView = {
  connection: ConnectionView | null;
  /** Another workspace holds the same install: Disconnect will not remove the app in Pipedrive. */
  installShared: boolean;
};

/** What the Disconnect confirmation needs to say. */
export async function loadDisconnectView(ctx: PipedriveContext, user: TenantUser): Promise<DisconnectView> {
  const [connection, install] = await Promise.all([
    getConnectionView(user.tenantId, { hosts: ctx.hosts, now: ctx.now(), requiredScopes: ctx.requiredScopes }),
    connectedAs(user.tenantId),
  ]);
  const holders = install ? await installHolders(install) : [];
  return { connection, installShared: holders.some((tenant) => tenant !== user.tenantId) };
}

export type InstallConfirmation = {
  /** Whose Pipedrive account the held grant is. */
  me: PipedriveMe;
  /** The connection it would replace, when it is another Pipedrive user's: their app is uninstalled. */
  replacing: { pipedriveUserName: string; companyName: string; keptForOthers: boolean } | null;
  /** That Pipedrive login is another workspace's already: refused before anyone presses Connect. */
  heldElsewhere: boolean;
};

/** What the confirmation page shows, for this admin's own held grant only; null when none is held. */
export async function loadInstallConfirmation(
  ctx: PipedriveContext,
  user: TenantUser,
  cookie: string | undefined,
): Promise<InstallConfirmation | null> {
  const me = await pendingInstallFor(ctx, user, cookie);
  if (!me) return null;
  const [current, holders] = await Promise.all([
    connectedAs(user.tenantId),
    installHolders({ companyId: me.company_id, pipedriveUserId: me.id }),
  ]);
  const switching = current && (current.companyId !== me.company_id || current.pipedriveUserId !== me.id);
  const keptForOthers = switching ? (await installHolders(current)).some((t) => t !== user.tenantId) : false;
  return {
    me,
    replacing: switching
      ? { pipedriveUserName: current.pipedriveUserName, companyName: current.companyName, keptForOthers }
      : null,
    heldElsewhere: holders.some((tenant) => tenant !== user.tenantId),
  };
}

/** An admin's choice about mail on the connection, for themselves only. */
export async function setMailPreference(user: TenantUser, on: boolean): Promise<void> {
  await setPipedriveMail(user, on);
}
