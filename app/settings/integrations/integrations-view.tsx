// Settings → Integrations: the Pipedrive card, the callback's outcome, and a phone lookup.
import type { ReactNode } from "react";

import { AppHeader } from "@/app/components/app-header.tsx";
import { SubmitButton } from "@/app/components/submit-button.tsx";
import { When } from "@/app/components/when.tsx";
import { USAGE_HINT } from "@/lib/errors.ts";
import { DAILY_BUDGET_FLOOR } from "@/lib/pipedrive/client/api-costs.ts";
import {
  badgeOf,
  CONDITION_WORDS,
  conditionOf,
  ENTITY_LIMIT_NOTE,
  reconnectPlace,
  REFRESH_TOKEN_IDLE_DAYS,
  refusedPermissionOf,
  type Condition,
} from "@/lib/pipedrive/conditions.ts";
import { pipedrive } from "@/lib/pipedrive/context.ts";
import { refusalMessage } from "@/lib/pipedrive/lookup/lookup-refusal.ts";
import { regionLabel, searchedAs } from "@/lib/pipedrive/lookup/person-search.ts";
import type { UsageToday } from "@/lib/pipedrive/lookup/usage-store.ts";
import type { ConnectionView } from "@/lib/pipedrive/settings-view-store.ts";
import type { SettingsView, Uninstall } from "@/lib/pipedrive/settings-view.ts";
import { ROUTES } from "@/lib/routes.ts";
import { parseOutcome } from "@/lib/settings-outcomes.ts";
import type { TenantUser } from "@/lib/users/user-store.ts";

import { ActivityList } from "./activity.tsx";
import { bannerFor, type Banner } from "./banners.ts";
import { PhoneLookup } from "./phone-lookup.tsx";

export type Query = Record<string, string | string[] | undefined>;

const AUTHORIZE = ROUTES.authorize;

/** The page's markup, from what the page read: shared with the bench's floor route. */
export function IntegrationsView({
  user,
  view,
  query,
  typed = null,
}: {
  user: TenantUser;
  view: SettingsView;
  query: Query;
  /** What was typed into a refused lookup, to put back in the field. */
  typed?: string | null;
}) {
  const { connection, uninstalled, events, keeper, appCredentialsRejectedSince, lookup, mailOn, usage } = view;
  const outcome = parseOutcome(query);
  const isAdmin = user.role === "admin";
  const condition = connection ? conditionOf({ connection, appCredentialsRejectedSince, keeper, isAdmin }) : null;

  return (
    <>
      <AppHeader user={user} />
      <main className="page">
        <h1>Integrations</h1>
        <p className="lede">
          Connect the tools your team already uses. Lead enrichment reads contacts through these connections.
        </p>
        {outcome && (
          <OutcomeBanner banner={bannerFor(outcome, { connected: connection !== null })} canConnect={isAdmin} />
        )}
        {appCredentialsRejectedSince && !isAdmin && (
          <div className="banner banner-error operator-alert" role="alert">
            <div>
              <p className="banner-title">Lookups are unavailable</p>
              <p>Pipedrive is refusing the CRM right now. The CRM&apos;s operators have been told.</p>
            </div>
          </div>
        )}
        {appCredentialsRejectedSince && isAdmin && (
          <div className="banner banner-error operator-alert" role="alert">
            <div>
              <p className="banner-title">Pipedrive rejects this app&apos;s credentials</p>
              <p>
                Since <When date={appCredentialsRejectedSince} />, Pipedrive refuses the credentials this CRM&apos;s
                Pipedrive app uses. This is not your workspace&apos;s doing and reconnecting will not help: whoever runs
                this CRM has to update its Pipedrive app credentials. Lookups and renewals fail until then.
              </p>
            </div>
          </div>
        )}

        <section className="card integration" aria-labelledby="pipedrive-title">
          <div className="integration-head">
            <span className="logo" aria-hidden="true">
              P
            </span>
            <div>
              <h2 id="pipedrive-title">Pipedrive</h2>
              <p className="muted">Find people by phone in your Pipedrive contacts.</p>
            </div>
            <StatusBadge condition={condition} isAdmin={isAdmin} uninstalled={uninstalled !== null} />
          </div>
          <PipedriveDetails
            connection={connection}
            uninstalled={uninstalled}
            condition={condition}
            isAdmin={isAdmin}
            keeper={keeper}
            usage={usage}
          />
        </section>

        {(connection?.status === "connected" || lookup) && (
          <PhoneLookup
            lookup={lookup}
            refused={refusalMessage(query, new Date())}
            context={{
              regionLabel: regionLabel(pipedrive().phoneRegion),
              searchedAs: lookup ? searchedAs(lookup.phone, pipedrive().phoneRegion) : null,
              expired: typeof query.lookup === "string" && lookup === null,
              companyDomain: connection?.companyDomain ?? null,
              connectedUser: { id: connection?.pipedriveUserId ?? null, name: connection?.pipedriveUserName ?? null },
              typed,
              boundSeconds: pipedrive().lookupBoundMs / 1000,
            }}
          />
        )}

        {mailOn !== null && <MailPreference on={mailOn} />}

        {events.length > 0 && (
          <section className="card" aria-labelledby="activity-title">
            <h2 id="activity-title">Recent activity</h2>
            <ActivityList events={events} />
            <p>
              <a href={ROUTES.activity}>Show all activity</a>
            </p>
          </section>
        )}
      </main>
    </>
  );
}

/** An admin's own choice: mail when the connection breaks, recovers, or is uninstalled. */
function MailPreference({ on }: { on: boolean }) {
  return (
    <section className="card" aria-labelledby="mail-title">
      <h2 id="mail-title">Mail about this connection</h2>
      <form method="post" action={ROUTES.notifications} className="inline-form">
        <div className="field">
          <label>
            <input type="checkbox" name="mail" value="on" defaultChecked={on} /> Email me when Pipedrive stops working,
            recovers, is uninstalled, or waits on Pipedrive
          </label>
        </div>
        <button type="submit" className="button button-secondary">
          Save
        </button>
      </form>
    </section>
  );
}

function StatusBadge({
  condition,
  isAdmin,
  uninstalled,
}: {
  condition: Condition | null;
  isAdmin: boolean;
  uninstalled: boolean;
}) {
  if (!condition && uninstalled) return <span className="badge badge-warn">Uninstalled in Pipedrive</span>;
  if (!condition) return <span className="badge badge-idle">Not connected</span>;
  const { text, tone } = badgeOf(condition, isAdmin);
  return (
    <span className={`badge badge-${tone}`}>
      {text}
      {condition.kind === "paused" && (
        <>
          {" "}
          <When date={condition.until} />
        </>
      )}
    </span>
  );
}

type KeeperStatus = { down: boolean; seenAt: Date | null };

function PipedriveDetails({
  connection,
  uninstalled,
  condition,
  isAdmin,
  keeper,
  usage,
}: {
  connection: ConnectionView | null;
  uninstalled: Uninstall | null;
  condition: Condition | null;
  isAdmin: boolean;
  keeper: KeeperStatus;
  usage: UsageToday | null;
}) {
  if (!connection && uninstalled) {
    return (
      <div className="integration-body">
        <WarnBanner title="The app was uninstalled in Pipedrive">
          <p>
            On <When date={uninstalled.at} />, Pipedrive told us the app was uninstalled from{" "}
            {uninstalled.pipedriveUserName ? `${uninstalled.pipedriveUserName}'s` : "the"} Pipedrive account this
            workspace used, so lookups stopped.{" "}
            {isAdmin
              ? "Connect again to resume them; Pipedrive will ask to allow access again."
              : "Ask a workspace admin to connect Pipedrive again."}
          </p>
          {isAdmin && <ConnectButton label="Connect Pipedrive" primary />}
        </WarnBanner>
      </div>
    );
  }
  if (!connection) {
    return (
      <div className="integration-body">
        <p>
          Not connected.{" "}
          {isAdmin
            ? "Connect your Pipedrive account to let lead enrichment look up contacts."
            : "Ask a workspace admin to connect Pipedrive."}
        </p>
        {isAdmin && (
          <div className="actions">
            <ConnectButton label="Connect Pipedrive" primary />
          </div>
        )}
      </div>
    );
  }
  const place = condition ? reconnectPlace(condition) : "actions";
  const fix = isAdmin && place === "banner";
  return (
    <div className="integration-body">
      <PausedBanner connection={connection} fix={fix} />
      {connection.status === "needs_reconnect" && (
        <WarnBanner title="Pipedrive needs to be reconnected">
          <p>{CONDITION_WORDS.needs_reconnect.explain}</p>
          <p>Lookups are paused until an admin presses Reconnect and allows access again in Pipedrive.</p>
          {fix && <ConnectButton label="Reconnect" primary />}
        </WarnBanner>
      )}
      {connection.lookupsPausedUntil && (
        <WarnBanner title="Lookups paused by Pipedrive">
          <p>
            Pipedrive&apos;s request limit for this company is used up. Lookups resume at{" "}
            <When date={connection.lookupsPausedUntil} />. Reconnecting does not lift Pipedrive&apos;s limit.
          </p>
          {isAdmin && <p>{USAGE_HINT}</p>}
        </WarnBanner>
      )}
      {connection.status === "connected" && keeper.down && isAdmin && (
        <WarnBanner title="Automatic renewal is not running">
          <p>
            {keeper.seenAt ? (
              <>
                It last ran <When date={keeper.seenAt} />.
              </>
            ) : (
              "It has not run yet."
            )}{" "}
            Lookups still renew access when they need it, but a connection left unused for {REFRESH_TOKEN_IDLE_DAYS}{" "}
            days stops working. Tell whoever runs this CRM to start the renewal worker.
          </p>
        </WarnBanner>
      )}
      {!connection.hostAllowed && (
        <WarnBanner title="Pipedrive address not recognised">
          <p>
            The stored address is not a Pipedrive host, so we send nothing to it and lookups are paused. Reconnect to
            store the right address.
          </p>
          {fix && <ConnectButton label="Reconnect" primary />}
        </WarnBanner>
      )}
      <dl className="facts">
        <dt>Company</dt>
        <dd>{connection.companyName ?? "Unknown"}</dd>
        <dt>Pipedrive domain</dt>
        <dd>{connection.companyDomain ? `${connection.companyDomain}.pipedrive.com` : connection.apiHost}</dd>
        <dt>Pipedrive user</dt>
        <dd>{connection.pipedriveUserName ?? "Unknown"}</dd>
        <dt>Connected by</dt>
        <dd>
          {connection.connectedByName ?? "Unknown"}
          {connection.connectedAt && (
            <>
              , <When date={connection.connectedAt} />
            </>
          )}
        </dd>
        {connection.status === "needs_reconnect" ? (
          <>
            <dt>Stopped working</dt>
            <dd>{connection.lastErrorAt ? <When date={connection.lastErrorAt} /> : "Unknown"}</dd>
          </>
        ) : (
          <>
            <dt>Access</dt>
            <dd>
              <Access connection={connection} condition={condition} isAdmin={isAdmin} />
            </dd>
          </>
        )}
        <dt>Permissions</dt>
        <dd>{connection.permissions.length ? connection.permissions.join("; ") : "—"}</dd>
        {usage && isAdmin && (
          <>
            <dt>Pipedrive budget today</dt>
            <dd>
              ≈ {usage.lookups} {usage.lookups === 1 ? "lookup" : "lookups"}, about{" "}
              {usage.apiTokens.toLocaleString("en")} Pipedrive API tokens so far (UTC day). The company&apos;s daily
              budget, shared with its other Pipedrive apps, is at least {DAILY_BUDGET_FLOOR.toLocaleString("en")} tokens
              ({DAILY_BUDGET_FLOOR.toLocaleString("en")} × plan multiplier × seats); Pipedrive does not tell apps its
              exact size.
            </dd>
          </>
        )}
      </dl>
      {isAdmin && (
        <div className="actions">
          {place === "actions" && <ConnectButton label="Reconnect" primary={false} />}
          {/* Disconnect asks first, on a page of its own: it works without JavaScript. */}
          <a href={`${ROUTES.settings}/disconnect`} className="button button-danger">
            Disconnect…
          </a>
        </div>
      )}
    </div>
  );
}

/** The Access row: the worst condition in force, else how renewal goes. */
function Access({
  connection,
  condition,
  isAdmin,
}: {
  connection: ConnectionView;
  condition: Condition | null;
  isAdmin: boolean;
}) {
  switch (condition?.kind) {
    case "unavailable":
      if (!isAdmin) return <>Lookups are unavailable; the CRM&apos;s operators have been told</>;
      return (
        <>
          Unavailable since <When date={condition.since} />: Pipedrive rejects this CRM&apos;s app credentials
        </>
      );
    case "host_unrecognised":
      return <>Paused: the stored Pipedrive address is not recognised</>;
    case "needs_permissions":
      return <>Paused: a permission lookups need is missing</>;
    case "subscription_lapsed":
      return <>Paused until the company&apos;s Pipedrive subscription is active again</>;
    case "access_forbidden":
      return <>Paused: the Pipedrive user lacks a permission</>;
    case "paused":
      return (
        <>
          Paused until <When date={condition.until} /> by Pipedrive&apos;s request limit
        </>
      );
    case "renewal_delayed":
      return (
        <>
          Renewal delayed:{" "}
          {condition.lastRan ? (
            <>
              automatic renewal last ran <When date={condition.lastRan} />
            </>
          ) : (
            "automatic renewal has not run yet"
          )}
          ; lookups still renew access when they need it
        </>
      );
    default:
      return <Renewal connection={connection} />;
  }
}

/** "Renewed automatically · last renewed … · next …": never a time already past. */
function Renewal({ connection }: { connection: ConnectionView }) {
  const next = connection.nextRenewalAt;
  return (
    <>
      Renewed automatically
      {connection.lastRefreshedAt && (
        <>
          {" "}
          · last renewed <When date={connection.lastRefreshedAt} />
        </>
      )}{" "}
      ·{" "}
      {next ? (
        <>
          next <When date={next} />
        </>
      ) : (
        "renewing now…"
      )}
    </>
  );
}

/** Starting a flow writes a state and a cookie, so it is a same-site POST, never a link. */
function ConnectButton({ label, primary }: { label: string; primary: boolean }) {
  return (
    <form method="post" action={AUTHORIZE}>
      <SubmitButton
        className={`button ${primary ? "button-primary" : "button-secondary"}`}
        busyText="Opening Pipedrive…"
      >
        {label}
      </SubmitButton>
    </form>
  );
}

function OutcomeBanner({ banner, canConnect }: { banner: Banner; canConnect: boolean }) {
  return (
    // Focused on load (no script needed), so a screen reader announces how the flow ended.
    <div
      className={`banner banner-${banner.tone}`}
      role={banner.tone === "error" ? "alert" : "status"}
      tabIndex={-1}
      autoFocus
    >
      <div>
        <p className="banner-title">{banner.title}</p>
        <p>{banner.body}</p>
        {banner.offerConnect && canConnect && <ConnectButton label="Connect Pipedrive" primary={false} />}
      </div>
      <a href={ROUTES.settings} className="dismiss" aria-label="Dismiss message">
        ×
      </a>
    </div>
  );
}

/** Why lookups are paused when Pipedrive's answers, not our access, stop them. */
function PausedBanner({ connection, fix }: { connection: ConnectionView; fix: boolean }) {
  const since = connection.lastErrorAt ? (
    <>
      Since <When date={connection.lastErrorAt} />,{" "}
    </>
  ) : null;
  if (connection.status === "needs_permissions") {
    return (
      <WarnBanner title="Pipedrive needs to grant a permission">
        <p>
          Lookups need permission to {connection.missingPermissions.join(" and ") || "read contacts"}, which the access
          granted in Pipedrive does not include, so they are paused.{" "}
          {fix
            ? "Press Reconnect and allow all the permissions Pipedrive asks for."
            : "An admin of this workspace needs to reconnect Pipedrive and allow all the permissions it asks for."}
        </p>
        {fix && <ConnectButton label="Reconnect" primary />}
      </WarnBanner>
    );
  }
  if (connection.status === "subscription_lapsed") {
    return (
      <WarnBanner title="Pipedrive subscription not active">
        <p>
          {since}Pipedrive refuses lookups because this company&apos;s Pipedrive subscription is not active. A Pipedrive
          admin of the company can renew the subscription in Pipedrive; lookups resume on their own once it is active
          again (we check every hour).
        </p>
      </WarnBanner>
    );
  }
  if (connection.status === "access_forbidden") {
    return (
      <WarnBanner title="The Pipedrive user lacks a permission">
        <p>
          {since}Pipedrive refuses {connection.pipedriveUserName ?? "the connected Pipedrive user"} permission to{" "}
          {refusedPermissionOf(connection.refusedCall)}, so lookups are paused. {ENTITY_LIMIT_NOTE}
        </p>
        <p>
          A Pipedrive admin can give that user the permission, or lift the limit, in Pipedrive (lookups resume on their
          own; we check every hour), or an admin here can reconnect as another Pipedrive user.
        </p>
        {fix && <ConnectButton label="Reconnect as another Pipedrive user" primary={false} />}
      </WarnBanner>
    );
  }
  return null;
}

/** A warning about the connection; the button that fixes it, when there is one, goes inside. */
function WarnBanner({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="banner banner-warn" role="status">
      <div>
        <p className="banner-title">{title}</p>
        {children}
      </div>
    </div>
  );
}
