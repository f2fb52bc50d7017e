import { When } from "@/app/components/when.tsx";
import { reconnectPlace, type Condition } from "@/lib/pipedrive/conditions.ts";
import type { UsageToday } from "@/lib/pipedrive/lookup/usage-store.ts";
import type { ConnectionView } from "@/lib/pipedrive/settings-view-store.ts";
import type { Uninstall } from "@/lib/pipedrive/settings-view.ts";
import { ROUTES } from "@/lib/routes.ts";

import { AskAdmins } from "./ask-admins.tsx";
import { ConditionBanners } from "./condition-banners.tsx";
import { ConnectButton } from "./connect-button.tsx";
import { Facts } from "./facts.tsx";
import { StatusBadge } from "./status-badge.tsx";
import { WarnBanner } from "./warn-banner.tsx";

type CardProps = {
  connection: ConnectionView | null;
  uninstalled: Uninstall | null;
  /** Every condition in force, worst first (none: connected, or nothing to connect). */
  conditions: Condition[];
  isAdmin: boolean;
  usage: UsageToday | null;
  /** What a connection may do, in words, said before Connect. */
  permissionsAsked: string[];
  /** The workspace's admins' names, for a member (empty for admins). */
  admins: string[];
};

/** The Pipedrive card: its badge, then whatever the workspace's connection calls for. */
export function PipedriveCard(props: CardProps) {
  return (
    <section className="card integration" aria-labelledby="pipedrive-title">
      <div className="integration-head">
        <span className="logo" aria-hidden="true">
          P
        </span>
        <div>
          <h2 id="pipedrive-title">Pipedrive</h2>
          <p className="muted">Find people by phone in your Pipedrive contacts.</p>
        </div>
        <StatusBadge
          condition={worstOf(props.connection, props.conditions)}
          isAdmin={props.isAdmin}
          uninstalled={props.uninstalled !== null}
        />
      </div>
      <CardBody {...props} />
    </section>
  );
}

/** The connection's condition: the worst in force, else connected; null with nothing connected. */
const worstOf = (connection: ConnectionView | null, conditions: Condition[]): Condition | null =>
  connection ? (conditions[0] ?? { kind: "connected" }) : null;

function CardBody({ connection, uninstalled, conditions, isAdmin, usage, permissionsAsked, admins }: CardProps) {
  if (!connection && uninstalled) {
    return (
      <div className="integration-body">
        <WarnBanner title="The app was uninstalled in Pipedrive">
          <p>
            On <When date={uninstalled.at} />, Pipedrive told us the app was uninstalled from{" "}
            {uninstalled.pipedriveUserName ? `${uninstalled.pipedriveUserName}'s` : "the"} Pipedrive account this
            workspace used, so lookups stopped.{" "}
            {isAdmin && "Connect again to resume them; Pipedrive will ask to allow access again."}
          </p>
          {isAdmin ? <ConnectButton label="Connect Pipedrive" primary /> : <AskAdmins admins={admins} what="connect" />}
        </WarnBanner>
      </div>
    );
  }
  if (!connection) {
    return (
      <div className="integration-body">
        <p>
          Not connected.
          {isAdmin && " Connect your Pipedrive account to let lead enrichment look up contacts."}
        </p>
        {!isAdmin && <AskAdmins admins={admins} what="connect" />}
        {isAdmin && (
          <p className="hint">
            Lead enrichment will look people up by phone in your Pipedrive contacts, acting as the Pipedrive user who
            approves the connection on Pipedrive&apos;s page. It may {permissionsAsked.join("; ")}. It then shows among
            that user&apos;s installed apps in Pipedrive, where they can remove it.
          </p>
        )}
        {isAdmin && (
          <div className="actions">
            <ConnectButton label="Connect Pipedrive" primary />
          </div>
        )}
      </div>
    );
  }
  const condition = worstOf(connection, conditions);
  const place = condition ? reconnectPlace(condition) : "actions";
  const fix = isAdmin && place === "banner";
  return (
    <div className="integration-body">
      <ConditionBanners connection={connection} conditions={conditions} isAdmin={isAdmin} fix={fix} />
      {!isAdmin && place === "banner" && <AskAdmins admins={admins} what="reconnect" />}
      <Facts connection={connection} conditions={conditions} isAdmin={isAdmin} usage={usage} />
      {isAdmin && (
        <div className="actions">
          {place === "actions" && <ConnectButton label="Reconnect" primary={false} />}
          {/* Disconnect asks first, on a page of its own: it works without JavaScript. */}
          <a href={ROUTES.disconnectConfirm} className="button button-danger">
            Disconnect…
          </a>
        </div>
      )}
    </div>
  );
}
